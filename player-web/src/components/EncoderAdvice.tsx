import type { EncoderAdviceItem } from "../lib/messages";

const TITLES: Record<string, string> = {
  keyframe_interval: "Keyframes too far apart",
  b_frames: "B-frames",
  bitrate: "Bitrate too high",
  audio_sample_rate: "Unusual audio sample rate",
  variable_frame_rate: "Frame rate varies",
};

function measured({ value, unit, limit }: EncoderAdviceItem): string {
  const shown = `${value.toLocaleString("en")} ${unit}`;
  return limit === null ? shown : `${shown} (aim for ${limit.toLocaleString("en")} ${unit})`;
}

/** What the publisher's encoder does that hurts viewers, from the health channel, each with
 * what to set in OBS. Nothing is shown while all is well. */
export function EncoderAdvice({ advice }: { advice: EncoderAdviceItem[] }) {
  if (advice.length === 0) return null;
  return (
    <section className="card encoder-advice" aria-labelledby="advice-title" role="status">
      <h2 id="advice-title">Encoder advice</h2>
      <ul>
        {advice.map((item) => (
          <li key={item.code} data-code={item.code}>
            <strong>{TITLES[item.code] ?? item.code}</strong>: {measured(item)}
            <p>{item.message}</p>
            <p className="fix">
              <span className="label">In OBS:</span> {item.obs}
            </p>
          </li>
        ))}
      </ul>
    </section>
  );
}
