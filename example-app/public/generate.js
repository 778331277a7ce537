// The Generate buttons: POST /generate waits, in the request, for the generation it started to end
// (generations.wait() on the server), then shows what came back: its metadata, how it was heard of.
for (const button of document.querySelectorAll("[data-generate]")) {
  button.addEventListener("click", async () => {
    const result = document.getElementById("generate-result");
    const outcome = button.dataset.generate;
    result.textContent =
      outcome === "lost"
        ? "Waiting… its only webhook will be lost: reconciliation reads it back from the API a few seconds after the track."
        : "Waiting for its webhook…";
    button.disabled = true;
    try {
      const response = await fetch(`/generate?outcome=${encodeURIComponent(outcome)}`, { method: "POST" });
      const body = await response.json();
      if (!response.ok) {
        result.textContent = `${response.status}: ${body.error ?? JSON.stringify(body)}`;
        return;
      }
      const { generation, waitedMs } = body;
      result.textContent =
        `The request waited ${(waitedMs / 1000).toFixed(1)} s: ${generation.id} is ${generation.status}, heard of by ${generation.origin}` +
        ` (${generation.images.length} images)\nmetadata: ${JSON.stringify(generation.metadata)}`;
    } catch (err) {
      result.textContent = `The request failed: ${err}`;
    } finally {
      button.disabled = false;
    }
  });
}
