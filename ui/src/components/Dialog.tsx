import type { ComponentChildren } from "preact";
import { useEffect, useId, useRef } from "preact/hooks";

/** A modal built on <dialog>.showModal(): focus is trapped, the page behind is inert,
 *  Escape closes. Focus goes to the heading on open and back to the opener on close. */
export function Dialog(props: {
  title: string;
  onClose: () => void;
  children: ComponentChildren;
  class?: string;
  dismissable?: boolean;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const headingRef = useRef<HTMLHeadingElement>(null);
  const id = useId();
  useEffect(() => {
    const opener = document.activeElement as HTMLElement | null;
    const d = ref.current!;
    if (!d.open) d.showModal();
    headingRef.current?.focus();
    return () => {
      if (d.open) d.close();
      if (opener && document.contains(opener)) opener.focus();
    };
  }, []);
  return (
    <dialog
      ref={ref}
      class={`dialog ${props.class ?? ""}`}
      aria-labelledby={id}
      onCancel={(e) => {
        e.preventDefault();
        if (props.dismissable !== false) props.onClose();
      }}
    >
      <h2 id={id} ref={headingRef} tabIndex={-1} class="dialog-title">
        {props.title}
      </h2>
      {props.children}
    </dialog>
  );
}
