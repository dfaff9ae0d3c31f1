// On narrow screens every list table is shown as cards (styles.css, "Phones"):
// a row becomes a card and each cell shows its column's name above its
// value. The name comes from the cell's data-label; this sets data-label
// from the column header for every table inside .table-wrap whenever a
// table appears or its text changes (a new language too), so screens need
// not repeat their headers.
// Headers that are only for screen readers (an actions column) give no label.

function headerLabel(th: Element): string {
  const hidden = th.querySelector(".visually-hidden");
  const text = (th.textContent ?? "").trim();
  if (hidden && (hidden.textContent ?? "").trim() === text) return "";
  return text;
}

function labelTable(table: HTMLTableElement): void {
  const heads = table.tHead?.rows[0]?.cells;
  if (!heads) return;
  const labels = Array.from(heads, headerLabel);
  for (const body of Array.from(table.tBodies)) {
    for (const row of Array.from(body.rows)) {
      Array.from(row.cells).forEach((cell, i) => {
        const l = labels[i] ?? "";
        if (!l) cell.removeAttribute("data-label");
        else if (cell.getAttribute("data-label") !== l) cell.setAttribute("data-label", l);
      });
    }
  }
}

export function installCardTables(root: HTMLElement): void {
  let pending = false;
  const run = () => {
    pending = false;
    root.querySelectorAll<HTMLTableElement>(".table-wrap table").forEach(labelTable);
  };
  new MutationObserver(() => {
    if (!pending) {
      pending = true;
      requestAnimationFrame(run);
    }
  }).observe(root, { childList: true, subtree: true, characterData: true });
}
