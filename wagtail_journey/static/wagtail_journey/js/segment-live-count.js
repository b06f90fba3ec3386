// Live count of a segment's contacts while its rules are edited in the admin.
(function () {
  "use strict";
  function init() {
    var box = document.getElementById("wj-live-count");
    if (!box) return;
    var form = box.closest("form");
    if (!form) return;
    var timer = null;
    var seq = 0;
    function refresh() {
      var mine = ++seq;
      box.textContent = box.dataset.loading;
      fetch(box.dataset.url, {
        method: "POST",
        body: new FormData(form),
        credentials: "same-origin",
        headers: { "X-Requested-With": "XMLHttpRequest" },
      })
        .then(function (r) { return r.json(); })
        .then(function (data) {
          if (mine !== seq) return;
          box.textContent = data.error ? data.error : data.label;
          box.classList.toggle("help-critical", !!data.error);
        })
        .catch(function () { if (mine === seq) box.textContent = box.dataset.failed; });
    }
    function later() {
      clearTimeout(timer);
      timer = setTimeout(refresh, 600);
    }
    form.addEventListener("change", later);
    form.addEventListener("input", later);
    // Capture phase: StreamField's block actions (delete, duplicate, move)
    // stop the click's propagation, so a bubbling listener never hears them.
    form.addEventListener(
      "click",
      function (e) {
        if (e.target.closest("button")) later();
      },
      true
    );
    refresh();
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
