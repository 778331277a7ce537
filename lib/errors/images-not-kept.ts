/** The images could not be kept, for a reason a later attempt may not meet: not the listeners' fault. */
export class ImagesNotKept extends Error {
  constructor(override readonly cause: unknown) {
    super("the images could not be kept yet");
    this.name = "ImagesNotKept";
  }
}
