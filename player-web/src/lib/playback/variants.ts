// What a multivariant playlist offers, read the way the quality menu and the level watch
// need it: each variant's media playlist (absolute URL), size, frame rate and codecs. The
// source variant is the one whose media playlist sits under a `/source/` path segment.

export interface VariantInfo {
  /** The media playlist, absolute. */
  uri: string;
  height: number;
  frameRate: number;
  bitrate: number;
  /** RFC 6381 codecs, as listed ("" when the playlist does not say). */
  codecs: string;
}

const VIDEO_CODECS = /^(avc[1-4]|hvc1|hev1|av01|vp0?9|vp8|dvh1|dvhe)(\.|$)/i;

/** The variants of a multivariant playlist, in its order; URIs resolved against `base`. */
export function parseMultivariant(text: string, base: string): VariantInfo[] {
  const lines = text.split(/\r?\n/).map((line) => line.trim());
  const variants: VariantInfo[] = [];
  for (const [i, line] of lines.entries()) {
    if (!line.startsWith("#EXT-X-STREAM-INF:")) continue;
    const attrs = attributes(line.slice("#EXT-X-STREAM-INF:".length));
    const uri = lines.slice(i + 1).find((next) => next !== "" && !next.startsWith("#"));
    if (!uri) continue;
    const [, height] = (attrs.RESOLUTION ?? "").split("x");
    variants.push({
      uri: new URL(uri, base).href,
      height: Number(height) || 0,
      frameRate: Number(attrs["FRAME-RATE"]) || 0,
      bitrate: Number(attrs.BANDWIDTH) || 0,
      codecs: attrs.CODECS ?? "",
    });
  }
  return variants;
}

/** `KEY=value,KEY="quoted, value"` as a record. */
function attributes(list: string): Record<string, string> {
  const found: Record<string, string> = {};
  for (const [, key, value] of list.matchAll(/([A-Z0-9-]+)=("[^"]*"|[^,]*)/g)) {
    if (key !== undefined && value !== undefined) found[key] = value.replace(/^"|"$/g, "");
  }
  return found;
}

/** The rendition's name as the server gives it (the folder of its media playlist:
 * `/hls/{stream}/{session}/{rendition}/index.m3u8`), "" for another kind of URL. The name
 * the server's metrics use, so what a player reports adds up with the CMCD it sent. */
export function renditionName(uri: string): string {
  try {
    const parts = new URL(uri, "http://x/").pathname.split("/");
    return parts.length >= 3 && parts.at(-1)!.endsWith(".m3u8") ? decodeURIComponent(parts.at(-2)!) : "";
  } catch {
    return "";
  }
}

export function isSource(uri: string): boolean {
  try {
    return new URL(uri, "http://x/").pathname.split("/").includes("source");
  } catch {
    return false;
  }
}

/** No picture: no height and no video codec among those listed. */
export function isAudioOnly(variant: Pick<VariantInfo, "height" | "codecs">): boolean {
  if (variant.height > 0) return false;
  const codecs = variant.codecs.split(",").map((codec) => codec.trim()).filter(Boolean);
  return codecs.length > 0 && !codecs.some((codec) => VIDEO_CODECS.test(codec));
}

/** The frame rate a label names (above 30 only: 29.97 and 30 read alike), else 0. */
function highFrameRate(variant: VariantInfo): number {
  return variant.frameRate > 30.5 ? Math.round(variant.frameRate) : 0;
}

/** "1080p60 (source)", "720p", "Audio only", or the bitrate when nothing else is known. */
export function variantLabel(variant: VariantInfo): string {
  const source = isSource(variant.uri) ? " (source)" : "";
  if (variant.height > 0) {
    const fps = highFrameRate(variant) ? String(highFrameRate(variant)) : "";
    return `${variant.height}p${fps}${source}`;
  }
  if (isAudioOnly(variant)) return `Audio only${source}`;
  return `${Math.round(variant.bitrate / 1000)} kbit/s${source}`;
}

/** A quality the viewer may pick: `id` is its media playlist. */
export interface LabelledVariant {
  id: string;
  label: string;
  audioOnly: boolean;
}

/** The menu: best first (taller, then faster, the source before a rung like it, then the
 * higher bitrate), one entry per label: a rung that equals the source is the source. */
export function menuOf(variants: readonly VariantInfo[]): LabelledVariant[] {
  const ranked = [...variants].sort(
    (a, b) =>
      b.height - a.height ||
      highFrameRate(b) - highFrameRate(a) ||
      Number(isSource(b.uri)) - Number(isSource(a.uri)) ||
      b.bitrate - a.bitrate,
  );
  const seen = new Set<string>();
  const menu: LabelledVariant[] = [];
  for (const variant of ranked) {
    const label = variantLabel(variant).replace(/ \(source\)$/, "");
    if (seen.has(label)) continue;
    seen.add(label);
    menu.push({ id: variant.uri, label: variantLabel(variant), audioOnly: isAudioOnly(variant) });
  }
  return menu;
}
