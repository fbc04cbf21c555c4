/* Inside the booking widget's frame: tell the owner's page how tall the widget is (embed.js sizes
   the iframe with it). Progressive enhancement only: the widget works without it. */
(function () {
  "use strict";
  if (window.parent === window) { return; }
  var slug = document.body.getAttribute("data-embed");
  var last = 0;
  var send = function () {
    var height = Math.ceil(document.documentElement.scrollHeight);
    if (height !== last) {
      last = height;
      window.parent.postMessage({ pmsEmbed: slug, height: height }, "*");
    }
  };
  window.addEventListener("load", send);
  window.addEventListener("resize", send);
  send();
})();
