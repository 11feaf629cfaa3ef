import type { Rendition } from "../lib/playback/engine";

/** The menu's "let the player choose" (rendition ids are playlist URLs). */
const AUTO = "auto";

/** The quality menu of a player: shown only where there is a choice. */
export function QualityMenu({
  renditions,
  chosen,
  onChoose,
}: {
  renditions: Rendition[];
  /** The rendition chosen (its id), null for automatic. */
  chosen: string | null;
  onChoose: (id: string | null) => void;
}) {
  if (renditions.length <= 1) return null;
  return (
    <select aria-label="Quality" value={chosen ?? AUTO} onChange={(event) => onChoose(event.target.value === AUTO ? null : event.target.value)}>
      <option value={AUTO}>Auto</option>
      {renditions.map((rendition) => (
        <option key={rendition.id} value={rendition.id}>
          {rendition.label}
        </option>
      ))}
    </select>
  );
}
