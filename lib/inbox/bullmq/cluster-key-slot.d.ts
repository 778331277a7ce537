// cluster-key-slot ships no types: the one function the inbox calls.
declare module "cluster-key-slot" {
  /** The Redis Cluster slot (0 to 16383) of a key: CRC16 of its hash tag, or of the whole key without one. */
  function calculateSlot(key: string): number;
  export = calculateSlot;
}
