// The search page: Pagefind's interface over the public index (/pagefind/, a static folder every viewer gets, with
// the further parts of a large one listed in /pagefind-shards/index.json) merged, for a signed-in member, with the
// members' index of their level (/pagefind-members/, which only the gate answers, and only to a session that has
// one); filled in from ?q= so that the header's search box (a plain form) lands on results.
(function () {
  "use strict";
  var MEMBERS = "/pagefind-members/";
  var SHARDS = "/pagefind-shards/index.json";

  // The further parts of the public index ([] for a site whose index is one part: the file is then missing).
  function publicShards() {
    if (typeof window.fetch !== "function") return Promise.resolve([]);
    return window.fetch(SHARDS, { credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : { bundles: [] }; })
      .then(function (list) {
        var bundles = (list && Array.isArray(list.bundles)) ? list.bundles : [];
        return bundles.filter(function (path) { return typeof path === "string" && /^\/pagefind-shards\/\d+\/$/.test(path); });
      })
      .catch(function () { return []; });
  }

  // Whether the viewer has a members' index: the gate answers its entry file 200 to a member with one, and what a
  // missing file gets to anyone else (as does a CDN serving public/ alone, which has no such folder). Only asked
  // when the display-only sign-in cookie says a session may exist: a visitor's console gets no 404.
  function membersIndex() {
    if (typeof window.fetch !== "function") return Promise.resolve(false);
    if (!/(?:^|; )mb_signed_in=1/.test(document.cookie)) return Promise.resolve(false);
    return window.fetch(MEMBERS + "pagefind-entry.json", { credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        if (!response.ok) return false;
        return response.json().then(function (entry) { return !!(entry && entry.languages); });
      })
      .catch(function () { return false; });
  }

  // A tenant whose pages all need a session has no public index (and so no /pagefind/pagefind-ui.js): a member
  // then searches the members' index alone, with the interface that index carries.
  function loadMembersInterface(done) {
    var css = document.createElement("link");
    css.rel = "stylesheet";
    css.href = MEMBERS + "pagefind-ui.css";
    document.head.appendChild(css);
    var script = document.createElement("script");
    script.src = MEMBERS + "pagefind-ui.js";
    script.onload = done;
    script.onerror = done;
    document.head.appendChild(script);
  }

  function start() {
    var page = document.querySelector(".search-page");
    if (!page) return;
    var query = new URLSearchParams(window.location.search).get("q") || "";
    var hasPublic = typeof window.PagefindUI === "function";

    function show(options) {
      if (typeof window.PagefindUI !== "function") {
        var note = page.querySelector(".search-unavailable");
        if (note) note.hidden = false;
        return;
      }
      var form = page.querySelector(".search-form");
      if (form) form.hidden = true;  // Pagefind's own box replaces the plain form
      options.element = "#search";
      options.showSubResults = true;
      options.resetStyles = false;
      var ui = new window.PagefindUI(options);
      if (query) ui.triggerSearch(query);
    }

    Promise.all([membersIndex(), hasPublic ? publicShards() : Promise.resolve([])]).then(function (found) {
      var members = found[0];
      var merge = found[1].map(function (path) { return { bundlePath: path }; });
      if (members && hasPublic) merge.push({ bundlePath: MEMBERS });  // results: public ∪ members' pages
      if (hasPublic || !members) show(merge.length ? { mergeIndex: merge } : {});
      else loadMembersInterface(function () { show({ bundlePath: MEMBERS }); });
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
