import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { bytes } from './format';

const COLORS = [
  '#2e86de',
  '#e67e22',
  '#27ae60',
  '#8e44ad',
  '#c0392b',
  '#16a085',
  '#d35400',
  '#7f8c8d',
  '#2c3e50',
];

/**
 * Bytes per bucket, one band per program, stacked (uPlot draws lines; each band is the running sum
 * of the series below it, filled down to the band under it).
 */
export function StackedChart({
  buckets,
  series,
  height = 260,
}: {
  buckets: number[];
  series: { label: string; values: number[] }[];
  height?: number;
}) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!box.current) return;
    const sums: number[][] = [];
    let below = buckets.map(() => 0);
    for (const s of series) {
      const top = s.values.map((v, i) => below[i]! + v);
      sums.push(top);
      below = top;
    }
    const plot = new uPlot(
      {
        width: box.current.clientWidth || 600,
        height,
        series: [
          {},
          ...series.map((s, i) => ({
            label: s.label,
            stroke: COLORS[i % COLORS.length],
            fill: `${COLORS[i % COLORS.length]}55`,
            // The legend shows the program's own bytes, not the running sum it is drawn at.
            value: (_u: uPlot, v: number | null, _s: number, idx: number | null) =>
              v == null || idx == null ? '-' : bytes(v - (i > 0 ? sums[i - 1]![idx]! : 0)),
          })),
        ],
        bands: series.slice(1).map((_, i) => ({ series: [i + 2, i + 1] as [number, number] })),
        axes: [{}, { values: (_u, ticks) => ticks.map((t) => bytes(t)), size: 80 }],
      },
      [buckets.map((b) => b / 1000), ...sums],
      box.current,
    );
    const resize = () => plot.setSize({ width: box.current?.clientWidth || 600, height });
    window.addEventListener('resize', resize);
    return () => {
      window.removeEventListener('resize', resize);
      plot.destroy();
    };
  }, [buckets, series]);
  return <div class="chart" ref={box} data-testid="history-chart" />;
}
