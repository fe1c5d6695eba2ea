import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { HistoryPoint } from '../server/protocol';
import { rate } from './format';

/** A live in/out traffic chart (uPlot) of history points. */
export function TrafficChart({ points, height = 220 }: { points: HistoryPoint[]; height?: number }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | undefined>(undefined);
  const data = (): uPlot.AlignedData => [
    points.map((p) => p[0] / 1000),
    points.map((p) => p[1]),
    points.map((p) => p[2]),
  ];
  useEffect(() => {
    if (!box.current) return;
    plot.current = new uPlot(
      {
        width: box.current.clientWidth || 600,
        height,
        series: [
          {},
          {
            label: 'in',
            stroke: '#2e86de',
            fill: 'rgba(46,134,222,0.15)',
            value: (_u, v) => (v == null ? '-' : rate(v)),
          },
          {
            label: 'out',
            stroke: '#e67e22',
            fill: 'rgba(230,126,34,0.15)',
            value: (_u, v) => (v == null ? '-' : rate(v)),
          },
        ],
        axes: [{}, { values: (_u, ticks) => ticks.map((t) => rate(t)), size: 80 }],
      },
      data(),
      box.current,
    );
    const resize = () => plot.current?.setSize({ width: box.current?.clientWidth || 600, height });
    window.addEventListener('resize', resize);
    return () => {
      window.removeEventListener('resize', resize);
      plot.current?.destroy();
    };
  }, []);
  useEffect(() => {
    plot.current?.setData(data());
  }, [points]);
  return <div class="chart" ref={box} />;
}
