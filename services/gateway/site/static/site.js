// Conveniences only: every page works without this file.
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  // A live count of what is left under a text field's limit.
  document.querySelectorAll("textarea[data-counter]").forEach(function (field) {
    var out = document.getElementById(field.getAttribute("data-counter"));
    var limit = parseInt(field.getAttribute("maxlength"), 10);
    var zh = document.documentElement.lang === "zh-CN";
    function update() {
      var left = limit - field.value.length;
      out.textContent = zh ? "（还可输入 " + left + " 字）" : "(" + left + " left)";
    }
    field.addEventListener("input", update);
    update();
  });

  // Copy the receipt code, and print the page.
  document.querySelectorAll("[data-copy]").forEach(function (button) {
    button.addEventListener("click", function () {
      var text = document.getElementById(button.getAttribute("data-copy")).textContent.trim();
      var said = document.getElementById("copied");
      var zh = document.documentElement.lang === "zh-CN";
      navigator.clipboard.writeText(text).then(function () {
        said.textContent = zh ? "已复制" : "Copied";
      }, function () {
        said.textContent = zh ? "无法复制，请手动抄写" : "Could not copy: please write it down";
      });
    });
  });
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.addEventListener("click", function () { window.print(); });
  });
})();
