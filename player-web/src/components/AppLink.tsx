import type { ReactNode } from "react";
import { navigate } from "../lib/router";

/** A link to a page of the app: a plain click opens it in place (`onOpen`, else the router);
 * a modified or middle click is left to the browser (a new tab). */
export function AppLink({ href, onOpen, className, children }: { href: string; onOpen?: () => void; className?: string; children: ReactNode }) {
  return (
    <a
      href={href}
      className={className}
      onClick={(event) => {
        if (event.metaKey || event.ctrlKey || event.shiftKey || event.button !== 0) return;
        event.preventDefault();
        if (onOpen) onOpen();
        else navigate(href);
      }}
    >
      {children}
    </a>
  );
}
