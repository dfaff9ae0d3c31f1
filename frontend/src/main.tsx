import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App } from "./app/App";
import { installCardTables } from "./components/cardTables";
import "./styles.css";

const root = document.getElementById("root");
if (!root) throw new Error("no #root element");
installCardTables(root);
createRoot(root).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
