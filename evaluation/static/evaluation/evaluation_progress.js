// A queued or running evaluation: polls its API detail and shows the progress; reloads the
// page when the evaluation is done or failed. The page works without it (reload by hand).
(function () {
  const box = document.querySelector("[data-evaluation-progress]");
  if (!box) return;
  const url = box.dataset.apiUrl;
  const bar = box.querySelector("progress");
  const text = box.querySelector("[data-field=text]");
  async function poll() {
    try {
      const response = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
      if (!response.ok) return;
      const body = await response.json();
      if (body.status === "done" || body.status === "failed") {
        window.location.reload();
        return;
      }
      const { done, total } = body.progress || {};
      if (total) {
        bar.max = total;
        bar.value = done;
        text.textContent = `${done} of ${total} done (${body.status})`;
      }
    } catch (error) {
      /* try again at the next tick */
    }
    window.setTimeout(poll, 3000);
  }
  window.setTimeout(poll, 3000);
})();
