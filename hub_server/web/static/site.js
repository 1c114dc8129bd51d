// Copy buttons for snippets and new tokens. Without JavaScript the buttons stay hidden and
// the text is plain, selectable <pre>.
document.querySelectorAll("button.copy").forEach(function (button) {
  var target = document.getElementById(button.dataset.copyTarget);
  if (!target || !navigator.clipboard) return;
  button.hidden = false;
  button.addEventListener("click", function () {
    navigator.clipboard.writeText(target.textContent).then(function () {
      button.textContent = "Copied";
      setTimeout(function () { button.textContent = "Copy"; }, 1500);
    });
  });
});
