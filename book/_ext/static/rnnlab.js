// The book's own script, added by book/_ext/rnnlab_book.py.
//
// Figures are drawn for the column of a laptop. On a phone, shrunk to the column, their
// labels would be a few pixels high, so a figure is never shown below 3/4 of its drawn
// size (all of it, for a figure with the class "wide-figure", whose labels need every
// pixel): a wider figure scrolls sideways inside its own box instead.
(() => {
  const LEAST = 0.75;

  function keepReadable(img) {
    const box = img.closest("figure") || img.parentElement;
    const least = (box.classList.contains("wide-figure") ? 1 : LEAST) * img.naturalWidth;
    const fits = least <= box.clientWidth;
    img.style.minWidth = fits ? "" : `${Math.round(least)}px`;
    box.classList.toggle("rnnlab-scrolls", !fits);
  }

  function all() {
    for (const img of document.querySelectorAll("article .cell_output img")) {
      if (img.complete) keepReadable(img);
      else img.addEventListener("load", () => keepReadable(img), {once: true});
    }
  }

  document.addEventListener("DOMContentLoaded", all);
  window.addEventListener("resize", all);
})();
