"""The words the bot says about itself: the greeting and the command list."""

from __future__ import annotations

COMMANDS: tuple[tuple[str, str], ...] = (
    ("start", "Greet and explain how the bot works"),
    ("help", "List the commands"),
    ("quiz", "Start a practice test: /quiz [exam] [EXAM] [DOMAIN...] [COUNT] [MINUTES]"),
    ("skip", "Skip the current question (it counts as missed)"),
    ("stop", "End the test now and grade what you answered"),
    ("resume", "Show the question you are on"),
    ("exams", "List the exams and their domains"),
    ("ask", "Ask a question about the study material: /ask what is jitter?"),
    ("why", "Explain the last question's answer; /why not B? asks about an option"),
    ("review", "Quiz the questions due for spaced review, most overdue first: /review [COUNT]"),
    ("stats", "Your accuracy per domain, readiness and a chart (in a group: the standings)"),
    ("daily", "The group's daily challenge: /daily, /daily on HH:MM [ZONE] ..., off, now"),
    ("leaderboard", "Group standings: /leaderboard [day|week|month|all]"),
    ("export", "Your missed questions as an Anki deck"),
    ("forget", "Delete everything stored about you (asks to confirm)"),
    ("report", "Flag a doubtful question: /report ID what is wrong (ID optional after an answer)"),
)

GREETING = (
    "Hi {name}! I quiz you on AWS certification exams (DVA-C02, CLF-C02) and explain every "
    "option.\n"
    "Start with /quiz (10 practice questions), or for example /quiz DVA-C02 security 5, "
    "or /quiz exam CLF-C02 20 30 for a 20-question exam-mode test with a 30-minute limit.\n"
    "Answer with a letter (B), several letters for choose-two (A,C), or the option's text. "
    "/help lists every command."
)


IMPORT_HELP = (
    "Admins can import questions: send a file in our YAML/JSON bank format, CSV, Moodle GIFT "
    "(.gift) or Aiken (.txt), with the exam and domain in the caption when the file does not "
    "say them (for example: DVA-C02 security)."
)


def help_text() -> str:
    lines = ["Commands:"]
    lines += [f"/{name} - {summary}" for name, summary in COMMANDS]
    lines.append(
        "In /quiz: 'exam' turns on exam mode (no feedback until the end); the first number is "
        "the question count (1-100, default 10), the second the time limit in minutes."
    )
    lines.append(IMPORT_HELP)
    return "\n".join(lines)
