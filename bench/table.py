"""The report's table: aligned rows under section titles, with their verdicts."""


class Table:
    """Rows of label, value, budget and verdict, under headings and sections, with notes; in rows
    of a saturated load level no verdict reads "pass"."""

    def __init__(self, *, saturated: bool = False) -> None:
        self._lines: list[tuple[str, ...] | str] = []
        self.saturated = saturated  # of the rows to come

    def heading(self, title: str) -> None:
        self._lines += ["", "", f"== {title}"]

    def section(self, title: str) -> None:
        self._lines += ["", f"-- {title}"]

    def row(self, label: str, value: str, budget: str = "", verdict: str = "") -> None:
        if self.saturated:
            verdict = verdict.replace("pass", "SATURATED")
        self._lines.append((label, value, budget, verdict))

    def note(self, text: str) -> None:
        self._lines.append(f"     {text}")

    def render(self) -> str:
        rows = [line for line in self._lines if isinstance(line, tuple)]
        widths = [max(len(row[i]) for row in rows) for i in range(3)]
        out = []
        for line in self._lines:
            if isinstance(line, str):
                out.append(line)
            else:
                cells = [cell.ljust(width) for cell, width in zip(line, widths, strict=False)]
                out.append(("   " + "  ".join([*cells, line[3]])).rstrip())
        return "\n".join(out)


def verdict(value: float, limit: float) -> str:
    return "pass" if value <= limit else "over"
