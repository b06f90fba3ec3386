/* wagtail_journey tracking: custom events, engagement and CTA clicks, sent with
   navigator.sendBeacon to the collect endpoint. Dependency-free; see docs/tracking.md.
   API: wagtailJourney.track(name, props), wagtailJourney.consent(true|false). */
(function (w, d) {
  "use strict";
  var s = d.currentScript, ep = s && s.getAttribute("data-endpoint");
  if (!ep || w.wagtailJourney) return;
  var page = +s.getAttribute("data-page") || null, on = s.getAttribute("data-track") === "1",
    q = [], timer, active = 0, since = Date.now(), depth = 0, sentEng = 0, CK = "wj_c";

  function cookie(n) { var m = d.cookie.match("(?:^|; )" + n + "=([^;]*)"); return m && m[1]; }
  function body(o) { return new Blob([JSON.stringify(o)], { type: "application/json" }); }
  function flush() {
    clearTimeout(timer);
    if (!q.length) return;
    var o = { page: page, events: q.splice(0, 20) };
    if (!(navigator.sendBeacon && navigator.sendBeacon(ep, body(o))))
      fetch(ep, { method: "POST", body: body(o), keepalive: true, credentials: "same-origin" });
    if (q.length) flush();
  }
  function track(kind, props) {
    if (!on) return false;
    q.push(props ? { kind: kind, props: props } : { kind: kind });
    clearTimeout(timer);
    timer = setTimeout(flush, 1000);
    return true;
  }
  function banner(show) {
    var b = d.querySelector("[data-journey-banner]");
    if (b) b.hidden = !show;
  }
  function consent(granted) {
    banner(false);
    var o = { consent: !!granted };
    // A grant names the page it is given on, with its query (UTM) and referrer:
    // the server records this view, so the campaign that brought them is kept.
    if (granted && page) {
      o.page = page; o.query = location.search.slice(1, 1000); o.ref = d.referrer.slice(0, 1000);
    }
    return fetch(ep, { method: "POST", body: body(o), credentials: "same-origin" })
      .then(function (r) { on = !!granted && r.ok; return on; });
  }
  function seen() { if (!d.hidden) { active += Date.now() - since; since = Date.now(); } }
  function engaged() {
    seen();
    if (sentEng || active < 1000) return;
    sentEng = 1;
    track("engagement", { seconds: Math.round(active / 1000), depth: depth });
    flush();
  }

  d.addEventListener("visibilitychange", function () {
    if (d.hidden) { engaged(); } else { since = Date.now(); }
  });
  w.addEventListener("pagehide", engaged);
  w.addEventListener("scroll", function () {
    var h = d.documentElement, max = h.scrollHeight - h.clientHeight;
    depth = Math.max(depth, max > 0 ? Math.round(100 * h.scrollTop / max) : 100);
  }, { passive: true });
  d.addEventListener("click", function (e) {
    var t = e.target.closest && e.target.closest("[data-journey-cta],[data-journey-consent]");
    if (!t) return;
    var c = t.getAttribute("data-journey-consent");
    if (c !== null) consent(c === "1");
    else { track("cta_click", { cta: t.getAttribute("data-journey-cta").slice(0, 200) }); flush(); }
  });
  if (s.getAttribute("data-ask") === "1" && !cookie(CK)) banner(true);

  w.wagtailJourney = { track: track, consent: consent, flush: flush };
})(window, document);
