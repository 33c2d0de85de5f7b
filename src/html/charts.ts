// Chart.js configurations for the project's pages, as plain JSON (no callbacks): they are embedded in the
// page's data block and handed to `new Chart(canvas, config)` by the page runtime (see page.ts). One look
// for every chart in the project: the same palette, fonts, axes and legend placement. Lines with error bars
// use chartjs-chart-error-bars' chart type (page.ts inlines that library when a page has one).
import type { ChartConfiguration } from 'chart.js';

/** The chart type of chartjs-chart-error-bars for lines with error bars (page.ts loads the plug-in for it). */
export const ERROR_BAR_CHART = 'lineWithErrorBars';

/** A Chart.js configuration that survives JSON.stringify (the helpers below build only those). */
export type ChartConfig = ChartConfiguration;

/** Colour-blind-friendly (Okabe-Ito), in the order series get them. */
export const palette = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#F0E442', '#000000'];

export const seriesColor = (index: number): string => palette[index % palette.length];

export interface AxisOptions {
  title?: string;
  /** `logarithmic` for batch sizes and other quantities that grow by factors. Default linear. */
  scale?: 'linear' | 'logarithmic';
  min?: number;
  max?: number;
  /** Start the axis at zero (linear axes). Default true for the value axis. */
  beginAtZero?: boolean;
  /** Ticks at whole numbers only (counts). */
  integer?: boolean;
  /** Room above the data (Chart.js `grace`, e.g. '5%'), so that a line at its maximum is not cut by the frame. */
  grace?: string;
}

export interface CategorySeries {
  label: string;
  /** One value per category label; null leaves a gap. */
  data: (number | null)[];
  color?: string;
}

/** A point of a line; yMin / yMax draw an error bar (e.g. mean ± margin of error). */
export interface LinePoint {
  x: number;
  y: number | null;
  yMin?: number;
  yMax?: number;
}

export interface PointSeries {
  label: string;
  points: LinePoint[];
  color?: string;
  /** A dashed line without point markers (reference lines such as an average). */
  dashed?: boolean;
  /** Line width, px. Default 2 (1.5 dashed). */
  width?: number;
  /** Draw a marker at every point. Default: only when there are few points. */
  markers?: boolean;
}

interface CommonOptions {
  title?: string;
  x?: AxisOptions;
  y?: AxisOptions;
}

/** Grouped bars over categories, e.g. precision and recall per class. */
export function barChart(options: CommonOptions & { labels: string[]; series: CategorySeries[] }): ChartConfig {
  return {
    type: 'bar',
    data: {
      labels: options.labels,
      datasets: options.series.map((s, i) => ({
        label: s.label,
        data: s.data,
        backgroundColor: s.color ?? seriesColor(i),
        borderWidth: 0,
      })),
    },
    options: common(options, 'category', { legend: options.series.length > 1 }),
  };
}

/**
 * Counts over adjacent ranges: bars touch, one colour per series, the labels name the ranges
 * (e.g. latency buckets "1.00-1.12 ms").
 */
export function histogramChart(options: CommonOptions & { labels: string[]; series: CategorySeries[] }): ChartConfig {
  return {
    type: 'bar',
    data: {
      labels: options.labels,
      datasets: options.series.map((s, i) => ({
        label: s.label,
        data: s.data,
        backgroundColor: `${s.color ?? seriesColor(i)}b3`,
        borderColor: s.color ?? seriesColor(i),
        borderWidth: 1,
        categoryPercentage: 1,
        barPercentage: 1,
        grouped: options.series.length > 1,
      })),
    },
    options: common({ ...options, y: { integer: true, ...options.y } }, 'category', {
      legend: options.series.length > 1,
    }),
  };
}

/** Lines over a numeric x axis (linear or logarithmic), e.g. throughput over time or against batch size. */
export function lineChart(options: CommonOptions & { series: PointSeries[] }): ChartConfig {
  const errorBars = options.series.some((s) => s.points.some((p) => p.yMin !== undefined || p.yMax !== undefined));
  return {
    // A type Chart.js learns from the inlined plugin, hence the cast.
    type: (errorBars ? ERROR_BAR_CHART : 'line') as 'line',
    data: {
      datasets: options.series.map((s, i) => {
        const color = s.color ?? seriesColor(i);
        const markers = s.markers ?? (!s.dashed && s.points.length <= 30);
        return {
          ...(errorBars
            ? { errorBarColor: color, errorBarWhiskerColor: color, errorBarLineWidth: 1.5, errorBarWhiskerSize: 10 }
            : {}),
          label: s.label,
          data: s.points,
          borderColor: color,
          backgroundColor: color,
          borderWidth: s.width ?? (s.dashed ? 1.5 : 2),
          borderDash: s.dashed ? [6, 4] : [],
          pointRadius: markers ? 3 : 0,
          pointHoverRadius: 4,
          tension: 0,
          spanGaps: false,
        };
      }),
    },
    options: common(options, options.x?.scale ?? 'linear', { legend: options.series.length > 1 }),
  };
}

// The options every chart shares; `ChartConfig['options']` is loose enough for the three chart types.
function common(
  options: CommonOptions,
  xType: 'category' | 'linear' | 'logarithmic',
  show: { legend: boolean },
): ChartConfig['options'] {
  return {
    responsive: true,
    maintainAspectRatio: false,
    animation: false,
    interaction: { mode: 'nearest', intersect: false },
    plugins: {
      title: { display: Boolean(options.title), text: options.title ?? '', font: { size: 14, weight: 'bold' } },
      legend: { display: show.legend, position: 'bottom' },
    },
    scales: {
      x: axis(options.x, xType, false),
      y: axis(options.y, options.y?.scale ?? 'linear', true),
    },
  };
}

/** One axis' options (Chart.js types them per axis type; ours are built for any of the three). */
type ScaleOptions = NonNullable<NonNullable<ChartConfig['options']>['scales']>[string];

function axis(
  options: AxisOptions | undefined,
  type: 'category' | 'linear' | 'logarithmic',
  valueAxis: boolean,
): ScaleOptions {
  return {
    type,
    title: { display: Boolean(options?.title), text: options?.title ?? '' },
    ...(options?.min === undefined ? {} : { min: options.min }),
    ...(options?.max === undefined ? {} : { max: options.max }),
    ...(type === 'linear' ? { beginAtZero: options?.beginAtZero ?? valueAxis } : {}),
    ...(options?.integer ? { ticks: { precision: 0 } } : {}),
    ...(options?.grace === undefined ? {} : { grace: options.grace }),
    grid: { display: valueAxis || type !== 'category' },
  } as ScaleOptions;
}
