"""A fake of the Hugging Face Hub for the tests of ``hf:`` runs and ``geovario push``.

As in the OSV-5M download tests, the real geovario code runs and only huggingface_hub's
network calls (HfApi, snapshot_download) are replaced by :class:`FakeHub`. The fake writes
the Hugging Face cache layout, so an offline test can use the real ``snapshot_download``.
"""

import fnmatch
import hashlib
from pathlib import Path

import httpx
import huggingface_hub
import huggingface_hub.constants
from huggingface_hub.errors import RepositoryNotFoundError, RevisionNotFoundError


def http_error(cls, url: str):
    return cls(f"404 Client Error for url: {url}",
               response=httpx.Response(404, request=httpx.Request("GET", url)))


class FakeHub:
    """Model repositories in memory: commits of files, branches pointing at commits."""

    def __init__(self) -> None:
        self.repos: dict[str, dict] = {}
        self.downloads: list[tuple[str, str | None, list[str]]] = []

    def api(self, **_):  # stands in for the HfApi class: HfApi(...) is this hub
        return self

    def create_repo(self, repo_id, *, private=False, exist_ok=False, **_):
        assert exist_ok or repo_id not in self.repos
        self.repos.setdefault(repo_id, {"private": private, "branches": {"main": "0" * 40},
                                        "commits": {"0" * 40: {}}})

    def create_branch(self, repo_id, *, branch, exist_ok=False, **_):
        branches = self.repos[repo_id]["branches"]
        assert exist_ok or branch not in branches
        branches.setdefault(branch, branches["main"])

    def create_commit(self, repo_id, operations, *, commit_message, revision=None, **_):
        repo = self.repos[repo_id]
        branch = revision or "main"
        files = dict(repo["commits"][repo["branches"][branch]])
        for operation in operations:
            with operation.as_file() as handle:
                files[operation.path_in_repo] = handle.read()
        oid = hashlib.sha1(repr(sorted(files.items())).encode()).hexdigest()
        repo["commits"][oid], repo["branches"][branch] = files, oid
        return huggingface_hub.CommitInfo(
            commit_url=f"https://huggingface.co/{repo_id}/commit/{oid}",
            commit_message=commit_message, commit_description="", oid=oid)

    def files(self, repo_id, revision="main") -> dict[str, bytes]:
        repo = self.repos[repo_id]
        return repo["commits"][repo["branches"][revision]]

    def snapshot_download(self, repo_id, *, revision=None, allow_patterns=None, **_):
        """Write the files into the HF cache as the real one does: refs/ and snapshots/."""
        self.downloads.append((repo_id, revision, allow_patterns))
        if repo_id not in self.repos:
            raise http_error(RepositoryNotFoundError, f"https://huggingface.co/api/models/"
                                                       f"{repo_id}")
        revision = revision or "main"
        repo = self.repos[repo_id]
        commit = repo["branches"].get(revision, revision if revision in repo["commits"]
                                      else None)
        if commit is None:
            raise http_error(RevisionNotFoundError, f"https://huggingface.co/api/models/"
                                                     f"{repo_id}/revision/{revision}")
        storage = Path(huggingface_hub.constants.HF_HUB_CACHE) / ("models--" + repo_id.replace(
            "/", "--"))
        snapshot = storage / "snapshots" / commit
        snapshot.mkdir(parents=True, exist_ok=True)
        for name, data in repo["commits"][commit].items():
            if allow_patterns is None or any(fnmatch.fnmatch(name, p) for p in allow_patterns):
                (snapshot / name).write_bytes(data)
        if revision != commit:
            (storage / "refs").mkdir(exist_ok=True)
            (storage / "refs" / revision).write_text(commit)
        return str(snapshot)


def assert_one_line_error(capsys, command: str, message: str) -> None:
    """The error as ``geovario <command>: error: ...`` on one line, whether or not the CLI
    drops a message's own ``<command>: `` prefix."""
    err = capsys.readouterr().err
    assert err.startswith(f"geovario {command}: error: ") and err.count("\n") == 1, err
    assert err.endswith(message + "\n"), err
