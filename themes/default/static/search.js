// The search page: Pagefind's interface over the index of the viewer's level (/pagefind/, answered by the gate for a
// signed-in viewer), filled in from ?q= so that the header's search box (a plain form) lands on results.
(function () {
  "use strict";
  function start() {
    var page = document.querySelector(".search-page");
    if (!page) return;
    var query = new URLSearchParams(window.location.search).get("q") || "";
    if (typeof window.PagefindUI !== "function") {
      var note = page.querySelector(".search-unavailable");
      if (note) note.hidden = false;
      return;
    }
    var form = page.querySelector(".search-form");
    if (form) form.hidden = true;  // Pagefind's own box replaces the plain form
    var ui = new window.PagefindUI({ element: "#search", showSubResults: true, resetStyles: false });
    if (query) ui.triggerSearch(query);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
