"""`studybot index`, `ask`, `eval` and `bench`: the study index from the command line."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from bot.config import Settings

if TYPE_CHECKING:  # each command imports what it runs: `studybot --help` and the chat need none
    from bot.llm import LLMComposer
    from bot.study import StudyIndex
    from bot.types import AnswerReply
    from knowledge.answering import Answerer
    from knowledge.bank import Bank

DEFAULT_SIZES = "1000,10000,100000"
T = TypeVar("T")
bench_app = typer.Typer(help="Benchmarks that print figures.", no_args_is_help=True)
BenchRuns = Annotated[int, typer.Option(min=1, help="Runs; every figure is their median")]
BenchQuick = Annotated[bool, typer.Option("--quick", help="Smaller sizes, same fields, < 2 min")]
BenchDatabaseUrl = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        envvar="DATABASE_URL",
        help="Also on this PostgreSQL server (in a new database, dropped afterwards)",
    ),
]


def _prepared(settings: Settings, bank: Bank, study: StudyIndex) -> Answerer:
    """The answerer, building the index first with a progress bar on standard error."""
    from rich.console import Console
    from rich.progress import Progress

    with Progress(transient=True, console=Console(stderr=True)) as progress:
        task = progress.add_task("Indexing the study material", total=None)

        def advance(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        answerer, message = study.ensure(bank, advance)
    if message:
        typer.echo(message, err=True)
    return answerer


@contextmanager
def one_loop(composer: LLMComposer | None) -> Iterator[Callable[[Coroutine[Any, Any, T]], T]]:
    """One event loop for a whole command: the model client's connections live on it, and
    are closed on it at the end."""
    with asyncio.Runner() as runner:

        def run(work: Coroutine[Any, Any, T]) -> T:
            return runner.run(work)

        try:
            yield run
        finally:
            if composer is not None:
                runner.run(composer.aclose())


def _as_json(reply: AnswerReply) -> str:
    return json.dumps(
        {
            "question": reply.question,
            "answer": reply.text,
            "sources": [{"id": s.id, "title": s.title, "score": s.score} for s in reply.sources],
            "disclaimer": reply.disclaimer,
            "mode": reply.mode,
            "covered": reply.covered,
            "note": reply.note,
        }
    )


def register(app: typer.Typer, load: callable, notes: callable) -> None:  # type: ignore[valid-type]
    """Add the commands to the main app; `load` and `notes` read the bank and notes."""

    @app.command()
    def index() -> None:
        """Build or update the study index (only new or changed passages are embedded)."""
        from bot.study import build_study_index

        settings = Settings()
        study = build_study_index(settings, notes(settings))
        _prepared(settings, load(settings), study)
        report = study.last_sync
        if report is None:
            typer.echo("Keyword index ready (STUDYBOT_EMBEDDINGS=none: no vectors).")
            return
        typer.echo(
            f"Index ready: {report.embedded} embedded, {report.unchanged} unchanged, "
            f"{report.removed} removed."
        )

    @app.command()
    def ask(
        question: Annotated[str, typer.Argument(help="The question, or - to read one per line")],
        as_json: Annotated[bool, typer.Option("--json", help="One JSON object per answer")] = False,
        exam: Annotated[str | None, typer.Option(help="Only material of this exam")] = None,
    ) -> None:
        """Answer a question from the study material (offline, or with the configured model)."""
        from adapters.text import render_answer
        from bot.followups import answer_question, build_follow_up_pipeline
        from knowledge.catalog import find_exam

        settings = Settings()
        code = None
        if exam:
            found = find_exam(exam)
            if found is None:
                typer.echo(f"Unknown exam {exam!r}; use DVA-C02 or CLF-C02.", err=True)
                raise typer.Exit(2)
            code = found.code
        follow_ups = build_follow_up_pipeline(settings, notes(settings))
        follow_ups.study.load_model_in_background()  # while the bank and index are checked
        answerer = _prepared(settings, load(settings), follow_ups.study)
        composer = follow_ups.composer
        questions = [line.strip() for line in sys.stdin] if question == "-" else [question]
        with one_loop(composer) as run:
            for text in filter(None, questions):
                reply = run(answer_question(answerer, composer, text, exam=code))
                typer.echo(_as_json(reply) if as_json else render_answer(reply))

    @app.command("eval")
    def eval_command(
        file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="Question set")],
        compare: Annotated[
            bool, typer.Option(help="Also run dense-only and lexical-only retrieval")
        ] = False,
        as_json: Annotated[bool, typer.Option("--json")] = False,
        show_misses: Annotated[
            bool, typer.Option("--misses", help="List missed questions")
        ] = False,
    ) -> None:
        """Hit rate (every `all` term and one `any` term in the answer) and source recall."""
        from bot.followups import answer_question, build_follow_up_pipeline
        from knowledge.evaluation import evaluate, load_eval
        from knowledge.retrieval import RetrievalMode

        settings = Settings()
        follow_ups = build_follow_up_pipeline(settings, notes(settings))
        answerer = _prepared(settings, load(settings), follow_ups.study)
        composer = follow_ups.composer
        entries = load_eval(file)
        modes = list(RetrievalMode) if compare else [RetrievalMode.hybrid]  # hybrid first
        by_id = answerer.retriever.by_id

        def passage_text(passage_id: str) -> str | None:
            return by_id[passage_id].text if passage_id in by_id else None

        results = []
        with one_loop(composer) as run:
            for mode in modes:

                def answer(
                    question: str, mode: RetrievalMode = mode
                ) -> tuple[str, bool, list[str]]:
                    reply = run(answer_question(answerer, composer, question, mode=mode))
                    return reply.text, reply.covered, [s.id for s in reply.sources]

                results.append(evaluate(entries, answer, mode.value, passage_text))
        if as_json:
            typer.echo(json.dumps([r.as_dict() for r in results], indent=2))
            return
        for result in results:
            recall = "n/a" if result.recall is None else f"{result.recall:.2f}"
            score = f"{result.hit_rate:.3f} ({result.hits}/{result.questions})"
            share = (
                ""
                if result.sentence_share is None
                else f", sentence share {result.sentence_share:.2f}"
            )
            typer.echo(
                f"{result.mode:8} hit rate {score}, covered {result.covered}, "
                f"source recall {recall}{share}"
            )
            if show_misses:
                for question in result.misses:
                    typer.echo(f"    missed: {question}")

    @bench_app.command("retrieval")
    def bench_retrieval_command(
        sizes: Annotated[
            str, typer.Option(help="Corpus sizes, comma-separated")
        ] = "1000,10000,100000",
        repeat: Annotated[int, typer.Option(help="Queries per size and run")] = 50,
        runs: Annotated[int, typer.Option(help="Runs per size; figures are their medians")] = 5,
        quick: Annotated[bool, typer.Option(help="Fewer queries and runs (CI, reviewers)")] = False,
    ) -> None:
        """Retrieval p50/p95 against a bare chromadb query, build rate and peak memory (JSON)."""
        from knowledge.bench import bench_retrieval
        from knowledge.embeddings import MiniLMEmbedder
        from knowledge.passages import build_passages

        settings = Settings()
        corpus = build_passages(load(settings).items(), notes(settings))
        questions = [f for item in load(settings).items() for f in item.follow_ups][:200]
        figures = bench_retrieval(
            corpus,
            questions,
            MiniLMEmbedder(),
            [int(s) for s in sizes.split(",") if s.strip()],
            min(repeat, 30) if quick else repeat,
            log=lambda line: typer.echo(line, err=True),
            runs=min(runs, 3) if quick else runs,
            sample=64 if quick else 512,
        )
        typer.echo(json.dumps(figures, indent=2))

    @bench_app.command("followups")
    def bench_followups_command(
        runs: Annotated[int, typer.Option(help="Fresh processes per figure (medians)")] = 3,
        quick: Annotated[bool, typer.Option(help="Fewer questions and processes")] = False,
    ) -> None:
        """Warm follow-up p50/p95 beside the bare retrieval under it, the first follow-up in a
        fresh process, the index check, `studybot ask` and a chat's peak memory (JSON). Uses
        the configured data folder: the index `scripts/setup` built."""
        from knowledge.bench_followups import bench_followups

        questions = [f for item in load(Settings()).items() for f in item.follow_ups]
        figures = bench_followups(
            questions[:: 8 if quick else 2],
            runs=2 if quick else runs,
            log=lambda line: typer.echo(line, err=True),
        )
        typer.echo(json.dumps(figures, indent=2))

    @bench_app.command("imports")
    def bench_imports_command(
        sizes: Annotated[str, typer.Option(help="Question counts, comma-separated")] = (
            "1000,8000,25000"
        ),
    ) -> None:
        """Seconds to check generated questions for near-duplicates, as an import does (JSON)."""
        import re

        from knowledge.bench import bench_imports

        texts = [t for i in load(Settings()).items() for t in (i.question, i.explanation)]
        words = [w for text in texts for w in re.findall(r"[a-z0-9]+", text.lower())]
        counts = [int(s) for s in sizes.split(",") if s.strip()]
        typer.echo(json.dumps(bench_imports(words, counts), indent=2))

    def bench_conversation(scenario: str, runs: int, quick: bool, database_url: str | None) -> None:
        """One scenario of bot.benchmarks through Core.handle, its medians as JSON."""
        from bot.benchmarks import run_bench
        from bot.config import normalise_database_url

        url = normalise_database_url(database_url) if database_url else None
        if url and not url.startswith("postgresql"):
            typer.echo("Not PostgreSQL, so SQLite only (always a temporary file).", err=True)
            url = None
        figures = run_bench(
            scenario,
            load(Settings()),
            runs=runs,
            quick=quick,
            postgres_url=url,
            log=lambda line: typer.echo(line, err=True),
        )
        typer.echo(json.dumps(figures, indent=2))

    @bench_app.command("core")
    def bench_core_command(
        runs: BenchRuns = 3,
        quick: BenchQuick = False,
        database_url: BenchDatabaseUrl = None,
    ) -> None:
        """One student's answer-to-verdict latency through Core.handle (JSON)."""
        bench_conversation("core", runs, quick, database_url)

    @bench_app.command("challenge")
    def bench_challenge_command(
        runs: BenchRuns = 3,
        quick: BenchQuick = False,
        database_url: BenchDatabaseUrl = None,
    ) -> None:
        """1,000 members answering one daily challenge at once: rate, latency, lost (JSON)."""
        bench_conversation("challenge", runs, quick, database_url)

    @bench_app.command("quizzes")
    def bench_quizzes_command(
        runs: BenchRuns = 3,
        quick: BenchQuick = False,
        database_url: BenchDatabaseUrl = None,
    ) -> None:
        """200 students taking 20-question quizzes at once, and a slow /stats chart (JSON)."""
        bench_conversation("quizzes", runs, quick, database_url)

    @bench_app.command("startup")
    def bench_startup_command(runs: BenchRuns = 5, quick: BenchQuick = False) -> None:
        """Seconds to the chat's first question (fresh process, no keys), `--help`, `ask` and
        the chat's imports, each the median of fresh processes (JSON)."""
        from adapters.cli.bench_startup import bench_startup

        figures = bench_startup(runs, quick, log=lambda line: typer.echo(line, err=True))
        typer.echo(json.dumps(figures, indent=2))

    app.add_typer(bench_app, name="bench")
