/* wagtail_journey consent banner: placement, keyboard and the "reopen" buttons.
   journey.js decides when the banner shows (no choice yet) and records the choice
   (any [data-journey-consent] button); this file only makes the banner usable:
   - it comes first in the page's tab order while it is visually fixed at the bottom,
     and a spacer keeps the end of the page reachable above it;
   - [data-journey-consent-open] links (the {% journey_consent_link %} tag) reopen it,
     with the current choice shown; Escape closes it once a choice exists, and focus returns;
   - scripts left inert by {% journey_consented_script %} load once their category is granted.
   A static file, no inline code: works under a strict Content-Security-Policy. */
(function (w, d) {
  "use strict";
  var b = d.querySelector("[data-journey-banner]");
  if (!b || b.getAttribute("data-ready")) return;
  b.setAttribute("data-ready", "1");
  var root = d.documentElement, spacer = d.createElement("div"), opener = null,
    name = b.getAttribute("data-cookie") || "wj_c",
    catName = b.getAttribute("data-categories-cookie");

  spacer.className = "wj-consent-spacer";
  spacer.setAttribute("aria-hidden", "true");

  function read(cookieName) {
    var m = d.cookie.match("(?:^|; )" + cookieName + "=([^;]*)");
    return m ? m[1] : null;
  }
  function choice() { return read(name); }
  // The categories granted: analytics from its cookie, the others from the categories cookie.
  function granted() {
    var list = ((catName && read(catName)) || "").split(".");
    if (choice() === "1") list.push("analytics");
    return list;
  }
  function fit() {
    var h = b.hidden ? 0 : b.getBoundingClientRect().height;
    spacer.style.height = h + "px";
    root.style.scrollPaddingBottom = h ? h + "px" : "";
  }
  function shown() {
    // First in the tab order and for screen readers, whatever the template's position.
    if (d.body.firstElementChild !== b) d.body.insertBefore(b, d.body.firstChild);
    d.body.appendChild(spacer);
    var current = choice();
    Array.prototype.forEach.call(b.querySelectorAll("[data-journey-consent-current]"), function (p) {
      p.hidden = p.getAttribute("data-journey-consent-current") !== current;
    });
    // The category form: tick what this browser granted.
    Array.prototype.forEach.call(b.querySelectorAll("[data-journey-category-choice]"), function (box) {
      box.checked = granted().indexOf(box.value) >= 0;
    });
    fit();
  }
  function closed() {
    fit();
    if (spacer.parentNode) spacer.parentNode.removeChild(spacer);
    var back = opener;
    opener = null;
    if (back && (b.contains(d.activeElement) || d.activeElement === d.body)) back.focus();
  }
  function open(from) {
    opener = from || null;
    b.hidden = false;
    b.querySelector(".wj-consent__inner").focus();
  }

  // journey.js shows and hides the banner through its `hidden` attribute.
  new MutationObserver(function () { if (b.hidden) closed(); else shown(); })
    .observe(b, { attributes: true, attributeFilter: ["hidden"] });
  if (!b.hidden) shown();
  w.addEventListener("resize", fit);

  b.addEventListener("keydown", function (e) {
    if (e.key === "Escape" && choice() !== null) { e.preventDefault(); b.hidden = true; }
  });
  Array.prototype.forEach.call(d.querySelectorAll("[data-journey-consent-open]"), function (el) {
    el.hidden = false;
    // A link to the cookie-settings page (it works without JavaScript); here it is a
    // button that opens the banner in place (Enter or Space, as buttons do).
    if (el.tagName === "A") el.setAttribute("role", "button");
    el.addEventListener("click", function (e) { e.preventDefault(); open(el); });
    el.addEventListener("keydown", function (e) {
      if (e.key === " " && el.tagName === "A") { e.preventDefault(); open(el); }
    });
  });
  // {% journey_consented_script "<category>" %}: inert until the category is granted.
  function load(category) {
    var sel = 'script[type="text/plain"][data-journey-category="' + category + '"]';
    Array.prototype.forEach.call(d.querySelectorAll(sel), function (inert) {
      var s = d.createElement("script");
      s.src = inert.getAttribute("data-src");
      inert.parentNode.replaceChild(s, inert);
    });
  }
  granted().forEach(function (category) { if (category) load(category); });
  // Categories configured after this browser answered the analytics question: ask again.
  var js = d.querySelector("script[data-ask]");
  if (catName && read(catName) === null && js && js.getAttribute("data-ask") === "1") b.hidden = false;
  d.addEventListener("click", function (e) {
    if (e.target.closest && e.target.closest('[data-journey-consent="1"]')) load("analytics");
  });

  w.wagtailJourneyConsent = { open: open, load: load };
})(window, document);
