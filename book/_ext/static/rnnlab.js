// The book's own script, added by book/_ext/rnnlab_book.py.
//
// Figures are drawn for the column of a laptop. On a phone, shrunk to the column, their
// labels would be a few pixels high, so a figure is never shown below 3/4 of its drawn
// size, at which the 12 pt text of the book's matplotlib style (rnnlab.course.book) is
// 12 CSS px: a wider figure scrolls sideways inside its own box instead. Single plots
// and stacked pairs are drawn 4.8 in wide, so that most figures fit a phone whole.
(() => {
  const LEAST = 0.75;

  function keepReadable(img) {
    const box = img.closest("figure") || img.parentElement;
    const least = LEAST * img.naturalWidth;
    // a figure a few pixels too wide shrinks a little more rather than scroll
    const fits = least <= 1.05 * box.clientWidth;
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

// Punctuation right after inline maths ("$x_t$,"), or a bracket right before it, may
// otherwise wrap to another line on its own: once MathJax has typeset the page, each
// such formula and its punctuation are kept together.
(() => {
  function gluePunctuation() {
    const inline = document.querySelectorAll("mjx-container:not([display='true'])");
    for (const container of inline) {
      const math = container.closest("span.math") || container;  // Sphinx's wrapper
      const next = math.nextSibling;
      const before = math.previousSibling;
      const after =
        next?.nodeType === Node.TEXT_NODE && next.data.match(/^[,.;:!?)\]]+/);
      const opening =
        before?.nodeType === Node.TEXT_NODE && before.data.match(/[(\[]+$/);
      if (!after && !opening) continue;
      const glue = document.createElement("span");
      glue.className = "rnnlab-nowrap";
      math.before(glue);
      if (opening) {
        before.data = before.data.slice(0, -opening[0].length);
        glue.append(opening[0]);
      }
      glue.append(math);
      if (after) {
        glue.append(after[0]);
        next.data = next.data.slice(after[0].length);
      }
    }
  }

  window.addEventListener("load", () =>
    window.MathJax?.startup?.promise?.then(gluePunctuation),
  );
})();
