// Small hand-made SVG charts for the oversight dashboard (no charting
// library: these two shapes are all it needs, and they stay out of the
// initial bundle with the dashboard screen). Every chart is an image with a
// text alternative; the numbers themselves are in the table beside it.

export const palette = ["#1f5fa8", "#c2571a", "#2e7d32", "#7b3fa0", "#a3461f", "#00838f", "#5d4037", "#ad1457"];

export interface Segment {
  key: string;
  label: string;
  value: number;
}

/** Horizontal stacked bars: one bar per row, one segment per series. */
export function StackedBars({
  rows,
  series,
  label,
}: {
  rows: { label: string; segments: Segment[] }[];
  series: { key: string; label: string }[];
  label: string;
}) {
  const max = Math.max(1, ...rows.map((r) => r.segments.reduce((s, x) => s + x.value, 0)));
  const barH = 22;
  const labelW = 150;
  const width = 560;
  const height = rows.length * (barH + 8) + 10;
  return (
    <div className="chart">
      <svg role="img" aria-label={label} viewBox={`0 0 ${width} ${height}`} width="100%" preserveAspectRatio="xMinYMin meet">
        {rows.map((r, i) => {
          let x = labelW;
          const y = 5 + i * (barH + 8);
          const total = r.segments.reduce((s, seg) => s + seg.value, 0);
          return (
            <g key={r.label}>
              <text x={labelW - 6} y={y + barH * 0.7} textAnchor="end" fontSize="12">
                {r.label}
              </text>
              {r.segments.map((seg) => {
                const w = ((width - labelW - 50) * seg.value) / max;
                const color = palette[series.findIndex((s) => s.key === seg.key) % palette.length];
                const rect = <rect key={seg.key} x={x} y={y} width={w} height={barH} fill={color} />;
                x += w;
                return rect;
              })}
              <text x={x + 4} y={y + barH * 0.7} fontSize="12">
                {total}
              </text>
            </g>
          );
        })}
      </svg>
      <Legend series={series} />
    </div>
  );
}

/** Lines per month: one line per series over the same months. */
export function Lines({
  months,
  series,
  label,
}: {
  months: string[];
  series: { key: string; label: string; values: number[] }[];
  label: string;
}) {
  const width = 560;
  const height = 220;
  const pad = { l: 36, r: 10, t: 10, b: 30 };
  const max = Math.max(1, ...series.flatMap((s) => s.values));
  const x = (i: number) => pad.l + (months.length <= 1 ? 0 : (i * (width - pad.l - pad.r)) / (months.length - 1));
  const y = (v: number) => height - pad.b - (v * (height - pad.t - pad.b)) / max;
  const step = Math.max(1, Math.ceil(months.length / 8));
  return (
    <div className="chart">
      <svg role="img" aria-label={label} viewBox={`0 0 ${width} ${height}`} width="100%" preserveAspectRatio="xMinYMin meet">
        <line x1={pad.l} y1={height - pad.b} x2={width - pad.r} y2={height - pad.b} stroke="#767676" />
        <line x1={pad.l} y1={pad.t} x2={pad.l} y2={height - pad.b} stroke="#767676" />
        <text x={pad.l - 4} y={pad.t + 10} textAnchor="end" fontSize="11">
          {max}
        </text>
        <text x={pad.l - 4} y={height - pad.b} textAnchor="end" fontSize="11">
          0
        </text>
        {months.map((m, i) =>
          i % step === 0 ? (
            <text key={m} x={x(i)} y={height - 10} textAnchor="middle" fontSize="11">
              {m}
            </text>
          ) : null,
        )}
        {series.map((s, si) => (
          <polyline
            key={s.key}
            fill="none"
            stroke={palette[si % palette.length]}
            strokeWidth="2"
            strokeDasharray={si % 2 ? "6 3" : undefined}
            points={s.values.map((v, i) => `${x(i)},${y(v)}`).join(" ")}
          />
        ))}
      </svg>
      <Legend series={series} />
    </div>
  );
}

function Legend({ series }: { series: { key: string; label: string }[] }) {
  return (
    <ul className="legend" aria-hidden="true">
      {series.map((s, i) => (
        <li key={s.key}>
          <span className="swatch" style={{ background: palette[i % palette.length] }} /> {s.label}
        </li>
      ))}
    </ul>
  );
}
