/* The booking widget loader for an owner's website:
     <script src="https://<our site>/static/storefront/embed.js" data-home="<slug>" async></script>
   puts the home's widget (calendar, price, "Book now") in an iframe right after the script tag and
   keeps the iframe as tall as its content. Optional: data-lang="de", data-max-width="720px". */
(function () {
  "use strict";
  var scripts = document.querySelectorAll("script[data-home]");
  Array.prototype.forEach.call(scripts, function (script) {
    if (script.getAttribute("data-loaded")) { return; }
    script.setAttribute("data-loaded", "1");
    var origin = new URL(script.src, window.location.href).origin;
    var slug = script.getAttribute("data-home");
    var url = origin + "/embed/" + encodeURIComponent(slug) + "/";
    if (script.getAttribute("data-lang")) { url += "?lang=" + encodeURIComponent(script.getAttribute("data-lang")); }
    var frame = document.createElement("iframe");
    frame.src = url;
    frame.title = script.getAttribute("data-title") || "Booking calendar";
    frame.loading = "lazy";
    frame.style.cssText = "width:100%;max-width:" + (script.getAttribute("data-max-width") || "720px") +
      ";height:640px;border:0;display:block";
    script.parentNode.insertBefore(frame, script.nextSibling);
    window.addEventListener("message", function (event) {
      if (event.origin !== origin || event.source !== frame.contentWindow) { return; }
      var data = event.data || {};
      if (data.pmsEmbed === slug && typeof data.height === "number" && data.height > 100 && data.height < 5000) {
        frame.style.height = data.height + "px";
      }
    });
  });
})();
