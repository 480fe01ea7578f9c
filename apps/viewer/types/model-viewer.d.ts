// <model-viewer> in JSX (the element registers itself when @google/model-viewer is imported).
import type { DetailedHTMLProps, HTMLAttributes } from "react";

type ModelViewerAttributes = DetailedHTMLProps<HTMLAttributes<HTMLElement>, HTMLElement> & {
  src?: string;
  alt?: string;
  poster?: string;
  "camera-controls"?: string;
  "camera-orbit"?: string;
  "auto-rotate"?: string;
  "interaction-prompt"?: string;
  "shadow-intensity"?: string;
  exposure?: string;
  "environment-image"?: string;
  "tone-mapping"?: string;
  loading?: string;
  reveal?: string;
};

declare module "react" {
  namespace JSX {
    interface IntrinsicElements {
      "model-viewer": ModelViewerAttributes;
    }
  }
}
