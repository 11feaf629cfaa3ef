// hls.js ships the light build (no DRM, subtitles or alternate audio: nothing mediad
// serves) without its own types; they are the full build's.
declare module "hls.js/light" {
  import Hls from "hls.js";
  export * from "hls.js";
  export default Hls;
}
