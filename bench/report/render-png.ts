import { existsSync } from "node:fs";
import { Resvg } from "@resvg/resvg-js";

/** The font the charts are drawn with, when the machine has it. */
export const DEJAVU_SANS = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";

/**
 * Renders an SVG to PNG with resvg. DejaVu Sans is loaded explicitly (the
 * output then looks the same on every machine that has it); without it,
 * the system's fonts are searched instead, and text may look different
 * or, with no font at all, be missing while the bars still render.
 */
export function renderPng(svg: string, fontFile = DEJAVU_SANS): Buffer {
  const haveFont = existsSync(fontFile);
  const resvg = new Resvg(svg, {
    font: haveFont
      ? {
          fontFiles: [fontFile],
          loadSystemFonts: false,
          defaultFontFamily: "DejaVu Sans",
        }
      : { loadSystemFonts: true },
    fitTo: { mode: "zoom", value: 1.5 },
    background: "#ffffff",
  });
  return resvg.render().asPng();
}
