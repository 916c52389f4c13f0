import stringWidth from "string-width";

/**
 * Left-aligned columns separated by two spaces, for terminals. Widths are
 * terminal columns, not UTF-16 units: a CJK character or an emoji takes
 * two, a combining accent none.
 */
export function formatTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) =>
    Math.max(stringWidth(h), ...rows.map((r) => stringWidth(r[i] ?? ""))),
  );
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c + " ".repeat((widths[i] ?? 0) - stringWidth(c)))
      .join("  ")
      .trimEnd();
  return [line(header), ...rows.map(line)].join("\n");
}

const graphemes = new Intl.Segmenter(undefined, { granularity: "grapheme" });

/**
 * `text` cut to at most `columns` terminal columns, ending in "..." when
 * cut. It cuts between characters as a reader sees them (grapheme
 * clusters), never inside an emoji or a surrogate pair.
 */
export function cutToWidth(text: string, columns: number): string {
  if (stringWidth(text) <= columns) return text;
  const room = Math.max(0, columns - 3);
  let kept = "";
  let used = 0;
  for (const { segment } of graphemes.segment(text)) {
    const width = stringWidth(segment);
    if (used + width > room) break;
    kept += segment;
    used += width;
  }
  return `${kept}...`;
}
