// What a page of the book reports once it is loaded and its maths typeset: run in the
// page by tools/check_book.py (Runtime.evaluate), which replaces MAX_COLUMNS.
(async () => {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
    await MathJax.startup.promise;
  }
  await document.fonts.ready;
  const report = {untypeset: [], raw_tex: [], long_lines: [], clipped: []};
  const cut = (s) => s.replace(/\s+/g, " ").trim().slice(0, 90);
  // Maths: Sphinx wraps every formula in .math; MathJax puts an mjx-container inside.
  for (const el of document.querySelectorAll(".math")) {
    if (!el.querySelector("mjx-container")) report.untypeset.push(cut(el.textContent));
  }
  // TeX that never reached MathJax: delimiters left in the page's text.
  const skip = "pre, code, script, style, textarea, mjx-container";
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const tex = /\$[^$\s][^$]*?\\[a-zA-Z]+[^$]*\$|\$\$|\\\(|\\\[|\\begin\{/;
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (node.parentElement.closest(skip)) continue;
    if (tex.test(node.textContent)) report.raw_tex.push(cut(node.textContent));
  }
  // Code: every line of every code block that is not a cell's output.
  for (const pre of document.querySelectorAll("div[class*='highlight-'] pre")) {
    if (pre.closest(".cell_output, .output")) continue;
    for (const line of pre.textContent.split("\n")) {
      if (line.length > MAX_COLUMNS) {
        report.long_lines.push(line.length + ": " + cut(line));
      }
    }
  }
  // Images whose alt text is missing or only a file name tell a screen reader nothing.
  report.bad_alt = [];
  for (const img of document.querySelectorAll("article img")) {
    const alt = (img.getAttribute("alt") || "").trim();
    if (!alt || /\.(svg|png|jpe?g|gif)$/i.test(alt)) {
      report.bad_alt.push(cut(img.getAttribute("src") || ""));
    }
  }
  // Overflow: the page scrolls sideways, or content runs past the screen's edge
  // without a scrolling box of its own around it.
  const width = document.documentElement.clientWidth;
  report.page_width = document.documentElement.scrollWidth;
  report.viewport_width = width;
  // when the page scrolls sideways: the innermost elements that reach past its edge
  report.wide = [];
  if (report.page_width > width + 1) {
    const clips = (el) => {
      for (let up = el.parentElement; up !== document.body; up = up.parentElement) {
        if (getComputedStyle(up).overflowX !== "visible") return true;
      }
      return false;
    };
    // an element's text spills out of its box when its overflow is visible
    const reach = (el) => el.getBoundingClientRect().left + el.scrollWidth;
    const right = (el) => Math.max(el.getBoundingClientRect().right, reach(el));
    for (const el of document.body.querySelectorAll("*")) {
      if (right(el) <= width + 1 || clips(el)) continue;
      // the theme's skip link is as wide as the page: a symptom, not a cause
      if (el.classList.contains("skip-link")) continue;
      if ([...el.children].some((c) => right(c) > width + 1)) continue;
      const name = el.tagName.toLowerCase() + (el.className ? "." + el.className : "");
      report.wide.push(cut(name) + " to " + Math.round(right(el)) + " px: "
                       + cut(el.textContent || ""));
      if (report.wide.length === 3) break;
    }
  }
  const content =
    "mjx-container, img, svg, table, pre, figure, video, audio, iframe, .math";
  const article = document.querySelector("article") || document.body;
  for (const el of article.querySelectorAll(content)) {
    const box = el.getBoundingClientRect();
    if (box.width === 0 || (box.right <= width + 1 && box.left >= -1)) continue;
    let scroller = null;
    for (let up = el.parentElement; up && up !== article; up = up.parentElement) {
      const style = getComputedStyle(up);
      if (["auto", "scroll"].includes(style.overflowX)) { scroller = up; break; }
    }
    if (scroller) {
      const outer = scroller.getBoundingClientRect();
      if (outer.right <= width + 1 && outer.left >= -1) continue;
    }
    const tag = el.tagName.toLowerCase();
    const what = cut(el.textContent || el.getAttribute("alt") || "");
    report.clipped.push(
      `${tag} ${Math.round(box.left)}-${Math.round(box.right)} px: ${what}`);
  }
  return report;
})()
