"""The exams we know, with the domain names and weights of their official exam guides.

Domain names are the exam guide's own; `key` is the short word a student types in `/quiz`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Domain:
    name: str
    key: str
    weight: float


@dataclass(frozen=True)
class Exam:
    code: str
    title: str
    domains: tuple[Domain, ...]

    def domain_names(self) -> list[str]:
        return [d.name for d in self.domains]

    def find_domain(self, word: str) -> Domain | None:
        """A domain by its key (or a prefix of at least three letters) or its full name."""
        word = word.strip().lower()
        for domain in self.domains:
            if word == domain.name.lower():
                return domain
        if len(word) < 3:
            return None
        matches = [d for d in self.domains if d.key.startswith(word)]
        return matches[0] if len(matches) == 1 else None


EXAMS: dict[str, Exam] = {
    "DVA-C02": Exam(
        code="DVA-C02",
        title="AWS Certified Developer - Associate",
        domains=(
            Domain("Development with AWS Services", "development", 0.32),
            Domain("Security", "security", 0.26),
            Domain("Deployment", "deployment", 0.24),
            Domain("Troubleshooting and Optimization", "troubleshooting", 0.18),
        ),
    ),
    "CLF-C02": Exam(
        code="CLF-C02",
        title="AWS Certified Cloud Practitioner",
        domains=(
            Domain("Cloud Concepts", "concepts", 0.24),
            Domain("Security and Compliance", "security", 0.30),
            Domain("Cloud Technology and Services", "technology", 0.34),
            Domain("Billing, Pricing, and Support", "billing", 0.12),
        ),
    ),
}

DEFAULT_EXAM = "DVA-C02"


def find_exam(word: str) -> Exam | None:
    """An exam by its code, case-insensitive, with or without the version suffix."""
    word = word.strip().upper()
    for code, exam in EXAMS.items():
        if word in (code, code.split("-")[0]):
            return exam
    return None
