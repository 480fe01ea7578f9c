// The package ships no type declarations; this covers the part the viewer uses.
declare module "@mkkellogg/gaussian-splats-3d" {
  export const SceneFormat: { readonly Splat: number; readonly KSplat: number; readonly Ply: number };
  export const SceneRevealMode: { readonly Default: number; readonly Gradual: number; readonly Instant: number };
  export const LogLevel: { readonly None: number; readonly Error: number; readonly Warning: number };

  export interface ViewerOptions {
    rootElement?: HTMLElement;
    cameraUp?: number[];
    initialCameraPosition?: number[];
    initialCameraLookAt?: number[];
    selfDrivenMode?: boolean;
    useBuiltInControls?: boolean;
    sharedMemoryForWorkers?: boolean;
    gpuAcceleratedSort?: boolean;
    dynamicScene?: boolean;
    antialiased?: boolean;
    sceneRevealMode?: number;
    logLevel?: number;
  }

  export interface AddSceneOptions {
    format?: number;
    showLoadingUI?: boolean;
    progressiveLoad?: boolean;
    splatAlphaRemovalThreshold?: number;
    onProgress?: (percent: number, label: string, status: number) => void;
  }

  export class Viewer {
    constructor(options?: ViewerOptions);
    addSplatScene(path: string, options?: AddSceneOptions): Promise<void>;
    start(): void;
    stop(): void;
    dispose(): Promise<void>;
  }
}
