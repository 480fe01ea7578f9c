// Read an FBX file with three.js's FBXLoader (maintained by the three.js project) and say what it holds.
//
// Usage: node read_fbx.mjs FILE
// Prints {"meshes", "faces", "vertex_colors", "uvs", "textures", "embedded_texture_bytes"} as JSON:
// "textures" counts the textures the loader asked for, "embedded_texture_bytes" the sizes of the images
// packed inside the file. Node has no image decoder, so images are handed over undecoded and only
// counted. Exit status 2 when the file cannot be read or parsed.
import { readFile } from "node:fs/promises";
import { LoadingManager, Texture } from "three";
import { FBXLoader } from "three/examples/jsm/loaders/FBXLoader.js";

const embedded = [];
// The loader turns a packed image into a blob URL with the browser's URL.createObjectURL.
globalThis.window = { URL: { createObjectURL: (blob) => { embedded.push(blob.size); return "blob:packed"; } } };

async function main(file) {
  if (!file) {
    console.error("usage: node read_fbx.mjs FILE");
    return 2;
  }
  let textures = 0;
  const images = {
    path: "",
    setPath(path) { this.path = path; return this; },
    load() { textures += 1; return new Texture(); },
  };
  const manager = new LoadingManager();
  manager.addHandler(/./, images); // every texture, whatever its file name (packed ones are named "*0")
  let group;
  try {
    const bytes = await readFile(file);
    group = new FBXLoader(manager).parse(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength), "");
  } catch (error) {
    console.error(`${file}: ${error}`);
    return 2;
  }
  let meshes = 0, faces = 0, vertexColors = false, uvs = false;
  group.traverse((object) => {
    if (!object.isMesh) return;
    meshes += 1;
    const geometry = object.geometry;
    faces += (geometry.index ? geometry.index.count : geometry.attributes.position.count) / 3;
    vertexColors ||= Boolean(geometry.attributes.color);
    uvs ||= Boolean(geometry.attributes.uv);
  });
  console.log(JSON.stringify({ meshes, faces, vertex_colors: vertexColors, uvs, textures,
                               embedded_texture_bytes: embedded }));
  return 0;
}

process.exitCode = await main(process.argv[2]);
