/* The annotations card of an object page: post the form and swap in the updated fragment, without
   leaving the page. Without this script the form posts and the server comes back to the page. */
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var form = event.target.closest("form.annotation-form");
    if (!form || !window.fetch) { return; }
    event.preventDefault();
    var card = form.closest(".annotations-fragment");
    fetch(form.action, {
      method: "POST",
      body: new FormData(form),
      headers: { "X-Requested-With": "fetch", Accept: "text/html" },
      credentials: "same-origin"
    }).then(function (r) {
      if (!r.ok && r.status !== 400) { throw new Error("HTTP " + r.status); }
      return r.text();
    }).then(function (html) {
      card.outerHTML = html;
    }).catch(function () { form.submit(); });  // fall back to the plain post
  });
})();
