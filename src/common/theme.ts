/**
 * The theme's colours for what is drawn on a canvas (uPlot plots, spectra, the sky view's
 * sources): read from the --jp-* variables when drawing, and drawn again when the theme changes.
 */
import type uPlot from 'uplot';

/** The value of a --jp-* variable of the page's theme (the fallback when it has none). */
export function cssVar(name: string, fallback: string): string {
  return getComputedStyle(document.body).getPropertyValue(name).trim() || fallback;
}

/** The theme's colours a plot is drawn with. */
export interface IThemeColours {
  fg: string;
  grid: string;
  brand: string;
  accent: string;
}

export function themeColours(): IThemeColours {
  return {
    fg: cssVar('--jp-ui-font-color1', '#333'),
    grid: cssVar('--jp-border-color2', '#ddd'),
    brand: cssVar('--jp-brand-color1', '#1976d2'),
    accent: cssVar('--jp-warn-color0', '#f57c00')
  };
}

/** A uPlot axis in the theme's colours: labels and ticks readable on light and dark. */
export function themeAxis(label: string, colours: IThemeColours = themeColours()): uPlot.Axis {
  return {
    label,
    stroke: colours.fg,
    labelFont: '12px sans-serif',
    font: '11px sans-serif',
    grid: { stroke: colours.grid, width: 1 },
    ticks: { stroke: colours.grid, width: 1 }
  };
}

/** Something drawn in the theme's colours, drawn again when the theme changes. */
export interface IRestylable {
  restyle(): void;
}

/**
 * Restyle each widget once the new theme's CSS is in (JupyterLab loads it after the signal).
 * ``themeChanged``: IThemeManager.themeChanged; ``each``: the widgets open now.
 */
export function restyleOnThemeChange(
  themeChanged: { connect: (fn: () => void) => unknown } | undefined,
  each: (fn: (w: IRestylable) => void) => void
): void {
  themeChanged?.connect(() => {
    setTimeout(() => each(w => w.restyle()), 200);
  });
}
