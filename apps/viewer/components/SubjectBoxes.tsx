"use client";

import { type PointerEvent, useEffect, useMemo, useRef, useState } from "react";

import styles from "./CreateJobForm.module.css";

/** A box around the subject of one picture as typed: left, top, right, bottom in the picture's pixels. */
export type BoxText = [string, string, string, string];

const CORNERS = ["left", "top", "right", "bottom"] as const;

export const EMPTY_BOX: BoxText = ["", "", "", ""];

/**
 * `options.segment` for the job: one entry per picture, `{box}` where one was given, null where the
 * automatic cut is kept; undefined when no box is given at all. A box half typed or inside out is an
 * error the form shows, never a box silently dropped.
 */
export function segmentPayload(boxes: BoxText[]): { pictures: ({ box: number[] } | null)[] } | undefined {
  if (boxes.every((box) => box.every((value) => value.trim() === ""))) return undefined;
  const pictures = boxes.map((box, index) => {
    if (box.every((value) => value.trim() === "")) return null;
    const numbers = box.map((value) => Number(value));
    const [left, top, right, bottom] = numbers;
    if (box.some((value) => value.trim() === "") || numbers.some((value) => !Number.isFinite(value) || value < 0)) {
      throw new Error(`The subject box of image ${index + 1} needs four numbers, none negative.`);
    }
    if (right <= left || bottom <= top) {
      throw new Error(`The subject box of image ${index + 1} must have right > left and bottom > top.`);
    }
    return { box: numbers };
  });
  return { pictures };
}

/**
 * Per chosen picture, an optional box around its subject: drag on the preview or type the corners
 * (in the picture's own pixels, as it shows upright). GrabCut then looks for the subject inside it
 * instead of guessing from the picture's border.
 */
export function SubjectBoxes({ files, boxes, onChange }: {
  files: File[];
  boxes: BoxText[];
  onChange: (boxes: BoxText[]) => void;
}) {
  const urls = useMemo(() => files.map((file) => URL.createObjectURL(file)), [files]);
  useEffect(() => () => urls.forEach((url) => URL.revokeObjectURL(url)), [urls]);
  const set = (index: number, box: BoxText) => onChange(boxes.map((current, i) => (i === index ? box : current)));

  return (
    <fieldset className={styles.options} data-testid="subject-boxes">
      <legend className={styles.hint}>Subject box (optional): drag on a picture, or type its corners in pixels</legend>
      {files.map((file, index) => (
        <div key={`${file.name}-${index}`} className={styles.subject}>
          <BoxPicker url={urls[index]} name={file.name} box={boxes[index] ?? EMPTY_BOX} onChange={(box) => set(index, box)}
            index={index} />
          <div className={styles.boxFields}>
            <span className={styles.hint}>{file.name}</span>
            {CORNERS.map((corner, k) => (
              <label key={corner} className={styles.hint}>
                {corner}
                <input
                  type="number"
                  min={0}
                  step={1}
                  data-testid={`box-${index}-${corner}`}
                  value={(boxes[index] ?? EMPTY_BOX)[k]}
                  onChange={(event) => {
                    const next = [...(boxes[index] ?? EMPTY_BOX)] as BoxText;
                    next[k] = event.target.value;
                    set(index, next);
                  }}
                />
              </label>
            ))}
            <button type="button" className="button" onClick={() => set(index, EMPTY_BOX)}
              data-testid={`box-${index}-clear`}>
              Automatic
            </button>
          </div>
        </div>
      ))}
    </fieldset>
  );
}

/** The picture with the box drawn over it; a drag draws a new box (converted to the picture's pixels). */
function BoxPicker({ url, name, box, index, onChange }: {
  url: string;
  name: string;
  box: BoxText;
  index: number;
  onChange: (box: BoxText) => void;
}) {
  const image = useRef<HTMLImageElement>(null);
  const [start, setStart] = useState<[number, number] | null>(null);

  const pixel = (event: PointerEvent<HTMLDivElement>): [number, number] => {
    const img = image.current;
    if (!img || !img.naturalWidth) return [0, 0];
    const rect = img.getBoundingClientRect();
    const x = Math.min(Math.max(event.clientX - rect.left, 0), rect.width) * (img.naturalWidth / rect.width);
    const y = Math.min(Math.max(event.clientY - rect.top, 0), rect.height) * (img.naturalHeight / rect.height);
    return [Math.round(x), Math.round(y)];
  };
  const drawn = (from: [number, number], to: [number, number]): BoxText => [
    String(Math.min(from[0], to[0])), String(Math.min(from[1], to[1])),
    String(Math.max(from[0], to[0])), String(Math.max(from[1], to[1])),
  ];

  const numbers = box.map((value) => Number(value));
  const img = image.current;
  const shown = img?.naturalWidth && box.every((value) => value.trim() !== "") && numbers.every(Number.isFinite);
  const style = shown && img ? {
    left: `${(numbers[0] / img.naturalWidth) * 100}%`,
    top: `${(numbers[1] / img.naturalHeight) * 100}%`,
    width: `${(Math.max(numbers[2] - numbers[0], 0) / img.naturalWidth) * 100}%`,
    height: `${(Math.max(numbers[3] - numbers[1], 0) / img.naturalHeight) * 100}%`,
  } : undefined;

  return (
    <div
      className={styles.boxPicker}
      data-testid={`box-${index}-picker`}
      onPointerDown={(event) => {
        event.currentTarget.setPointerCapture(event.pointerId);
        setStart(pixel(event));
      }}
      onPointerMove={(event) => start && onChange(drawn(start, pixel(event)))}
      onPointerUp={(event) => {
        if (start) onChange(drawn(start, pixel(event)));
        setStart(null);
      }}
    >
      {/* eslint-disable-next-line @next/next/no-img-element -- a local object URL, nothing to optimise */}
      <img ref={image} src={url} alt={`${name}: drag to draw the subject's box`} draggable={false} />
      {style && <div className={styles.boxOutline} style={style} data-testid={`box-${index}-outline`} />}
    </div>
  );
}
