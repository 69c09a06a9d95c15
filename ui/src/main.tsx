import "./styles.css";
import { render } from "preact";
import { App } from "./App";

export function start() {
  render(<App />, document.getElementById("app")!);
}
// The mock entry (src/mock/main.tsx) installs the mock backend first, then calls start().
if (!(globalThis as { __IDENT_DEFER_START__?: boolean }).__IDENT_DEFER_START__) start();
