"""Unit tests of :mod:`taskclf.core.home`: the one door into TASKCLF_HOME.

Real files in ``tmp_path``; special files are made with ``os.mkfifo`` inside it.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from taskclf.core.atomic import UnsafeTargetError
from taskclf.core.home import MAX_SYMLINK_HOPS, Home, HomePathError
from taskclf.core.jsonio import JSONFileError


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """An empty home folder with a sibling ``outside/`` holding a secret file."""
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret.json").write_text('{"secret": true}\n')
    home = tmp_path / "home"
    home.mkdir()
    return home


@pytest.fixture
def door(root: Path) -> Home:
    return Home.at(root)


def put(path: Path, text: str = "{}\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


class TestParts:
    """Home.parts: components below the home, ``..`` resolved lexically, never above the home."""

    def test_relative(self, door: Home) -> None:
        assert door.parts("models/run_001/metadata.json") == ("models", "run_001", "metadata.json")

    def test_dots_and_empty_components_are_resolved(self, door: Home) -> None:
        assert door.parts("./models//x/../run_001/.") == ("models", "run_001")
        assert door.parts(".") == ()
        assert door.parts("") == ()

    def test_absolute_inside_given(self, door: Home, root: Path) -> None:
        assert door.parts(root / "models" / "a") == ("models", "a")
        assert door.parts(str(root)) == ()

    def test_absolute_inside_root_when_given_is_a_link(self, tmp_path: Path, root: Path) -> None:
        link = tmp_path / "homelink"
        link.symlink_to(root)
        door = Home.at(link)
        assert door.given == link
        assert door.root == root.resolve()
        assert door.parts(link / "models") == ("models",)
        assert door.parts(root.resolve() / "models") == ("models",)

    def test_dotdot_climbing_out_is_refused(self, door: Home) -> None:
        with pytest.raises(HomePathError) as caught:
            door.parts("models/../../outside/secret.json")
        assert caught.value.kind == "outside"
        assert caught.value.target is not None

    def test_absolute_outside_is_refused(self, door: Home, tmp_path: Path) -> None:
        with pytest.raises(HomePathError) as caught:
            door.parts(tmp_path / "outside" / "secret.json")
        assert caught.value.kind == "outside"
        assert caught.value.target == str(tmp_path / "outside" / "secret.json")

    def test_a_sibling_whose_name_extends_the_home_is_outside(self, door: Home, root: Path) -> None:
        with pytest.raises(HomePathError) as caught:
            door.parts(f"{root}2/models")
        assert caught.value.kind == "outside"

    def test_absolute_with_dotdot_back_inside(self, door: Home, root: Path) -> None:
        assert door.parts(f"{root}/../{root.name}/models") == ("models",)

    def test_error_is_both_a_jsonfileerror_and_an_oserror(self, door: Home) -> None:
        with pytest.raises(HomePathError) as caught:
            door.parts("../x")
        assert isinstance(caught.value, JSONFileError)
        assert isinstance(caught.value, OSError)
        assert str(caught.value).startswith("../x: leads outside TASKCLF_HOME")


class TestDisplayAndPathOf:
    """Home.display shows home-relative POSIX paths; path_of gives the absolute path below given."""

    def test_display_inside(self, door: Home, root: Path) -> None:
        assert door.display(root / "models" / "x.json") == "models/x.json"
        assert door.display("models/./x.json") == "models/x.json"
        assert door.display(root) == "."

    def test_display_outside_is_unchanged(self, door: Home, tmp_path: Path) -> None:
        outside = str(tmp_path / "outside" / "secret.json")
        assert door.display(outside) == outside
        assert door.display("../x") == "../x"

    def test_path_of(self, door: Home, root: Path) -> None:
        assert door.path_of("models/a/../b") == root / "models" / "b"
        assert door.path_of("") == root

    def test_path_of_uses_given_not_root(self, tmp_path: Path, root: Path) -> None:
        link = tmp_path / "homelink"
        link.symlink_to(root)
        assert Home.at(link).path_of("models") == link / "models"

    def test_path_of_outside_raises(self, door: Home) -> None:
        with pytest.raises(HomePathError):
            door.path_of("../outside")

    def test_of_models_dir(self, root: Path) -> None:
        assert Home.of_models_dir(root / "models").given == root

    def test_at_relative(self, root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.chdir(root.parent)
        assert Home.at(root.name).given == root


class TestHomeReachedThroughALink:
    """A home named through a symbolic link is resolved once and used like any other."""

    def test_read_and_write_through_the_named_link(self, tmp_path: Path, root: Path) -> None:
        link = tmp_path / "homelink"
        link.symlink_to(root)
        door = Home.at(link)
        put(root / "models" / "a.json", '{"a": 1}\n')
        assert door.read_bytes("models/a.json") == b'{"a": 1}\n'
        assert door.write_bytes("models/b.json", b"{}\n") == link / "models" / "b.json"
        assert (root / "models" / "b.json").read_bytes() == b"{}\n"


class TestLinkRules:
    """The walk follows links only while they stay inside the home, else refuses them."""

    def test_relative_link_inside_is_followed(self, door: Home, root: Path) -> None:
        put(root / "data" / "real.json", "real")
        (root / "data" / "link.json").symlink_to("real.json")
        assert door.read_bytes("data/link.json") == b"real"

    def test_relative_link_with_dotdot_inside_is_followed(self, door: Home, root: Path) -> None:
        put(root / "artifacts" / "real.json", "real")
        (root / "models").mkdir()
        (root / "models" / "link.json").symlink_to("../artifacts/real.json")
        assert door.read_bytes("models/link.json") == b"real"

    def test_absolute_link_inside_is_followed(self, door: Home, root: Path) -> None:
        put(root / "artifacts" / "real.json", "real")
        (root / "link.json").symlink_to(root / "artifacts" / "real.json")
        assert door.read_bytes("link.json") == b"real"

    def test_relative_link_outside_is_refused_with_target(
        self, door: Home, root: Path, tmp_path: Path
    ) -> None:
        (root / "link.json").symlink_to("../outside/secret.json")
        with pytest.raises(HomePathError) as caught:
            door.read_bytes("link.json")
        assert caught.value.kind == "outside"
        assert caught.value.target == str(tmp_path / "outside" / "secret.json")
        assert caught.value.filename == "link.json"

    def test_absolute_link_outside_is_refused_with_target(
        self, door: Home, root: Path, tmp_path: Path
    ) -> None:
        secret = tmp_path / "outside" / "secret.json"
        (root / "link.json").symlink_to(secret)
        with pytest.raises(HomePathError) as caught:
            door.read_bytes("link.json")
        assert caught.value.kind == "outside"
        assert caught.value.target == str(secret)

    def test_absolute_link_to_a_sibling_extending_the_home_name_is_outside(
        self, door: Home, root: Path
    ) -> None:
        sibling = Path(f"{root}2")
        put(sibling / "f.json", "sibling")
        (root / "link.json").symlink_to(sibling / "f.json")
        with pytest.raises(HomePathError) as caught:
            door.read_bytes("link.json")
        assert caught.value.kind == "outside"
        assert caught.value.target == str(sibling / "f.json")

    def test_chain_of_links_inside_is_followed(self, door: Home, root: Path) -> None:
        put(root / "c" / "real.json", "end")
        (root / "b").mkdir()
        (root / "b" / "two.json").symlink_to("../c/real.json")
        (root / "one.json").symlink_to("b/two.json")
        (root / "zero.json").symlink_to(root / "one.json")
        assert door.read_bytes("zero.json") == b"end"

    def test_chain_that_ends_outside_is_refused(self, door: Home, root: Path) -> None:
        (root / "two.json").symlink_to("../outside/secret.json")
        (root / "one.json").symlink_to("two.json")
        with pytest.raises(HomePathError) as caught:
            door.read_bytes("one.json")
        assert caught.value.kind == "outside"

    def test_loop_of_file_links(self, door: Home, root: Path) -> None:
        (root / "a").symlink_to("b")
        (root / "b").symlink_to("a")
        with pytest.raises(HomePathError) as caught:
            door.read_bytes("a")
        assert caught.value.kind == "loop"
        assert str(MAX_SYMLINK_HOPS) in caught.value.reason

    def test_self_loop_of_a_folder_link(self, door: Home, root: Path) -> None:
        (root / "models").symlink_to("models")
        with pytest.raises(HomePathError) as caught:
            door.read_bytes("models/x.json")
        assert caught.value.kind == "loop"

    def test_growing_folder_loop_terminates(self, door: Home, root: Path) -> None:
        (root / "d").symlink_to("d/d/d")
        with pytest.raises(HomePathError) as caught:
            door.kind("d/x")
        assert caught.value.kind == "loop"

    def test_link_in_an_intermediate_folder_inside(self, door: Home, root: Path) -> None:
        put(root / "real" / "run" / "metadata.json", "meta")
        (root / "models").symlink_to("real")
        assert door.read_bytes("models/run/metadata.json") == b"meta"
        assert door.kind("models/run") == "folder"

    def test_link_in_an_intermediate_folder_outside(
        self, door: Home, root: Path, tmp_path: Path
    ) -> None:
        (root / "models").symlink_to(tmp_path / "outside")
        with pytest.raises(HomePathError) as caught:
            door.read_bytes("models/secret.json")
        assert caught.value.kind == "outside"
        assert caught.value.target == str(tmp_path / "outside")

    def test_link_target_climbing_out_and_back_in_is_refused(self, door: Home, root: Path) -> None:
        # "../home/real.json" from the home itself leaves it before it comes back:
        # the walk never resolves ``..`` above the home, so it is refused.
        put(root / "real.json", "real")
        (root / "link.json").symlink_to(f"../{root.name}/real.json")
        with pytest.raises(HomePathError) as caught:
            door.read_bytes("link.json")
        assert caught.value.kind == "outside"

    def test_link_target_with_dotdot_staying_inside_is_followed(
        self, door: Home, root: Path
    ) -> None:
        put(root / "a" / "real.json", "real")
        (root / "a" / "b").mkdir()
        (root / "a" / "b" / "link.json").symlink_to("../../a/./b/../real.json")
        assert door.read_bytes("a/b/link.json") == b"real"

    def test_link_to_the_home_itself_as_a_folder(self, door: Home, root: Path) -> None:
        put(root / "f.json", "top")
        (root / "sub").mkdir()
        (root / "sub" / "up").symlink_to("..")
        assert door.read_bytes("sub/up/f.json") == b"top"
        with pytest.raises(HomePathError) as caught:
            door.read_bytes("sub/up")
        assert caught.value.kind == "not_regular"

    def test_the_outside_file_is_never_touched(
        self, door: Home, root: Path, tmp_path: Path
    ) -> None:
        secret = tmp_path / "outside" / "secret.json"
        before = secret.read_bytes()
        (root / "link.json").symlink_to(secret)
        with pytest.raises(UnsafeTargetError):
            door.write_bytes("link.json", b"overwritten")
        assert secret.read_bytes() == before
        assert (root / "link.json").is_symlink()


class TestKinds:
    """kind follows links inside; entry_kind does not follow the last component."""

    @pytest.fixture
    def tree(self, root: Path) -> Path:
        put(root / "file.json")
        (root / "folder").mkdir()
        os.mkfifo(root / "fifo")
        (root / "link_file").symlink_to("file.json")
        (root / "link_folder").symlink_to("folder")
        (root / "dangling").symlink_to("missing")
        return root

    @pytest.mark.parametrize(
        ("name", "kind", "entry"),
        [
            ("file.json", "file", "file"),
            ("folder", "folder", "folder"),
            ("fifo", "other", "other"),
            ("link_file", "file", "link"),
            ("link_folder", "folder", "link"),
            ("dangling", "nothing", "link"),
            ("missing", "nothing", "nothing"),
        ],
    )
    def test_kind_and_entry_kind(
        self, door: Home, tree: Path, name: str, kind: str, entry: str
    ) -> None:
        assert door.kind(name) == kind
        assert door.entry_kind(name) == entry

    def test_entry_kind_below_a_file(self, door: Home, tree: Path) -> None:
        assert door.entry_kind("file.json/below") == "nothing"

    def test_kind_of_the_home(self, door: Home, tree: Path) -> None:
        assert door.kind("") == "folder"

    def test_kind_of_a_link_outside_raises(self, door: Home, root: Path, tmp_path: Path) -> None:
        (root / "out").symlink_to(tmp_path / "outside")
        with pytest.raises(HomePathError) as caught:
            door.kind("out")
        assert caught.value.kind == "outside"
        assert door.entry_kind("out") == "link"

    def test_list_dir(self, door: Home, tree: Path) -> None:
        names, cut = door.list_dir("", limit=100)
        assert sorted(names) == sorted(os.listdir(tree))
        assert cut is False

    def test_list_dir_limit(self, door: Home, tree: Path) -> None:
        names, cut = door.list_dir("", limit=2)
        assert len(names) == 2
        assert cut is True

    def test_list_dir_through_a_link_inside(self, door: Home, tree: Path) -> None:
        put(tree / "folder" / "x")
        assert door.list_dir("link_folder", limit=10) == (["x"], False)

    def test_list_dir_of_a_file_and_a_fifo(self, door: Home, tree: Path) -> None:
        with pytest.raises(NotADirectoryError):
            door.list_dir("file.json", limit=10)
        with pytest.raises(NotADirectoryError):
            door.list_dir("fifo", limit=10)
        with pytest.raises(FileNotFoundError):
            door.list_dir("missing", limit=10)

    def test_open_dir_yields_the_folder(self, door: Home, tree: Path) -> None:
        put(tree / "folder" / "inner.json", "inner")
        with door.open_dir("link_folder") as fd:
            assert stat.S_ISDIR(os.fstat(fd).st_mode)
            assert os.listdir(fd) == ["inner.json"]


class TestReadBytes:
    """read_bytes reads one regular file once, with a size limit, never blocking."""

    def test_reads(self, door: Home, root: Path) -> None:
        put(root / "a.json", "abc")
        assert door.read_bytes("a.json") == b"abc"

    def test_size_limit(self, door: Home, root: Path) -> None:
        put(root / "a.json", "x" * 11)
        assert door.read_bytes("a.json", max_bytes=11) == b"x" * 11
        with pytest.raises(JSONFileError) as caught:
            door.read_bytes("a.json", max_bytes=10)
        assert "11 bytes, larger than the 10-byte limit" in caught.value.reason

    def test_fifo_is_refused_without_blocking(self, door: Home, root: Path) -> None:
        os.mkfifo(root / "fifo.json")  # nobody writes: a blocking open would hang forever
        with pytest.raises(HomePathError) as caught:
            door.read_bytes("fifo.json")
        assert caught.value.kind == "not_regular"

    def test_fifo_behind_a_link_is_refused(self, door: Home, root: Path) -> None:
        os.mkfifo(root / "fifo")
        (root / "a.json").symlink_to("fifo")
        with pytest.raises(HomePathError) as caught:
            door.read_bytes("a.json")
        assert caught.value.kind == "not_regular"

    def test_folder_is_refused(self, door: Home, root: Path) -> None:
        (root / "d").mkdir()
        with pytest.raises(HomePathError) as caught:
            door.read_bytes("d")
        assert caught.value.kind == "not_regular"
        assert "directory" in caught.value.reason

    def test_home_itself_is_refused(self, door: Home) -> None:
        with pytest.raises(HomePathError) as caught:
            door.read_bytes("")
        assert caught.value.kind == "not_regular"

    def test_missing(self, door: Home, root: Path) -> None:
        with pytest.raises(FileNotFoundError):
            door.read_bytes("missing.json")
        put(root / "f")
        with pytest.raises((FileNotFoundError, NotADirectoryError)):
            door.read_bytes("f/below.json")

    def test_missing_home(self, tmp_path: Path) -> None:
        with pytest.raises(FileNotFoundError):
            Home.at(tmp_path / "nowhere").read_bytes("models/x.json")

    def test_too_long_component(self, door: Home) -> None:
        with pytest.raises(HomePathError) as caught:
            door.read_bytes("x" * 300)
        assert caught.value.kind == "too_long"


class TestWriteBytes:
    """write_bytes replaces only regular files, makes folders, keeps the mode minus special bits."""

    def test_creates_folders_and_the_home(self, tmp_path: Path) -> None:
        door = Home.at(tmp_path / "new" / "home")
        path = door.write_bytes("models/deep/x.json", b"data")
        assert path == tmp_path / "new" / "home" / "models" / "deep" / "x.json"
        assert path.read_bytes() == b"data"

    def test_replaces_a_regular_file(self, door: Home, root: Path) -> None:
        put(root / "x.json", "old")
        door.write_bytes("x.json", b"new")
        assert (root / "x.json").read_bytes() == b"new"
        assert os.listdir(root) == ["x.json"]

    def test_new_file_mode_under_umask_022(self, door: Home, root: Path) -> None:
        old = os.umask(0o022)
        try:
            door.write_bytes("x.json", b"{}")
        finally:
            os.umask(old)
        assert stat.S_IMODE((root / "x.json").stat().st_mode) == 0o644

    def test_mode_is_kept_without_special_bits(self, door: Home, root: Path) -> None:
        target = put(root / "x.json", "old")
        os.chmod(target, 0o7640)
        door.write_bytes("x.json", b"new")
        assert stat.S_IMODE(target.stat().st_mode) == 0o640

    def test_private_mode_is_kept(self, door: Home, root: Path) -> None:
        target = put(root / "x.json", "old")
        os.chmod(target, 0o600)
        door.write_bytes("x.json", b"new")
        assert stat.S_IMODE(target.stat().st_mode) == 0o600

    def test_fifo_target_is_refused_and_intact(self, door: Home, root: Path) -> None:
        os.mkfifo(root / "x.json")
        with pytest.raises(UnsafeTargetError):
            door.write_bytes("x.json", b"new")
        assert stat.S_ISFIFO((root / "x.json").lstat().st_mode)
        assert os.listdir(root) == ["x.json"]

    def test_device_target_is_refused_and_intact(self, door: Home, root: Path) -> None:
        try:
            os.mknod(root / "x.json", 0o600 | stat.S_IFCHR, os.makedev(1, 3))
        except PermissionError:
            pytest.skip("cannot make a device node here")
        with pytest.raises(UnsafeTargetError):
            door.write_bytes("x.json", b"new")
        info = (root / "x.json").lstat()
        assert stat.S_ISCHR(info.st_mode)
        assert info.st_rdev == os.makedev(1, 3)

    def test_symlink_target_is_refused_and_intact(self, door: Home, root: Path) -> None:
        put(root / "real.json", "real")
        (root / "x.json").symlink_to("real.json")
        with pytest.raises(UnsafeTargetError) as caught:
            door.write_bytes("x.json", b"new")
        assert "symbolic link" in str(caught.value)
        assert os.readlink(root / "x.json") == "real.json"
        assert (root / "real.json").read_text() == "real"

    def test_folder_target_is_refused_and_intact(self, door: Home, root: Path) -> None:
        put(root / "x.json" / "inner", "inner")
        with pytest.raises(UnsafeTargetError):
            door.write_bytes("x.json", b"new")
        assert (root / "x.json" / "inner").read_text() == "inner"

    def test_file_where_a_folder_is_needed(self, door: Home, root: Path) -> None:
        put(root / "models", "a file")
        with pytest.raises(HomePathError) as caught:
            door.write_bytes("models/x.json", b"new")
        assert caught.value.kind == "in_the_way"
        assert caught.value.filename == "models"
        assert (root / "models").read_text() == "a file"

    def test_outside_is_refused(self, door: Home, root: Path, tmp_path: Path) -> None:
        (root / "models").symlink_to(tmp_path / "outside")
        with pytest.raises(HomePathError) as caught:
            door.write_bytes("models/new.json", b"x")
        assert caught.value.kind == "outside"
        assert sorted(os.listdir(tmp_path / "outside")) == ["secret.json"]

    def test_home_itself_is_refused(self, door: Home) -> None:
        with pytest.raises(HomePathError):
            door.write_bytes("", b"x")

    def test_write_through_an_intermediate_link_inside(self, door: Home, root: Path) -> None:
        (root / "real").mkdir()
        (root / "models").symlink_to("real")
        door.write_bytes("models/x.json", b"x")
        assert (root / "real" / "x.json").read_bytes() == b"x"
        assert (root / "models").is_symlink()

    def test_dangling_folder_link_inside_creates_its_target(self, door: Home, root: Path) -> None:
        (root / "models").symlink_to("store/models")
        door.write_bytes("models/x.json", b"x")
        assert (root / "store" / "models" / "x.json").read_bytes() == b"x"


class TestWriteDocument:
    """write_document writes taskclf's canonical JSON and refuses what the reader would refuse."""

    def test_canonical_text(self, door: Home, root: Path) -> None:
        door.write_document("x.json", {"b": "é", "a": [1]})
        text = (root / "x.json").read_text(encoding="utf-8")
        assert text == json.dumps({"b": "é", "a": [1]}, indent=2, ensure_ascii=False) + "\n"

    def test_refused_document_touches_nothing(self, door: Home, root: Path) -> None:
        put(root / "x.json", "old")
        with pytest.raises(JSONFileError):
            door.write_document("x.json", {"bad": "\ud800"})
        with pytest.raises(JSONFileError):
            door.write_document("x.json", {"bad": float("nan")})
        assert (root / "x.json").read_text() == "old"
        assert os.listdir(root) == ["x.json"]

    def test_refused_document_creates_no_folder(self, tmp_path: Path) -> None:
        door = Home.at(tmp_path / "h")
        with pytest.raises(JSONFileError):
            door.write_document("models/x.json", {"bad": "\udfff"})
        assert not (tmp_path / "h").exists()

    def test_fifo_target(self, door: Home, root: Path) -> None:
        os.mkfifo(root / "x.json")
        with pytest.raises(UnsafeTargetError):
            door.write_document("x.json", {})
        assert stat.S_ISFIFO((root / "x.json").lstat().st_mode)


class TestRemove:
    """remove deletes a regular file or a link (never its target) and refuses anything else."""

    def test_file(self, door: Home, root: Path) -> None:
        put(root / "x.json")
        assert door.remove("x.json") is True
        assert not (root / "x.json").exists()

    def test_missing(self, door: Home, root: Path) -> None:
        assert door.remove("x.json") is False
        assert door.remove("no/such/folder.json") is False

    def test_link_is_removed_not_its_target(self, door: Home, root: Path, tmp_path: Path) -> None:
        secret = tmp_path / "outside" / "secret.json"
        (root / "x.json").symlink_to(secret)
        assert door.remove("x.json") is True
        assert not (root / "x.json").is_symlink()
        assert secret.exists()

    def test_folder_refused(self, door: Home, root: Path) -> None:
        (root / "d").mkdir()
        with pytest.raises(HomePathError) as caught:
            door.remove("d")
        assert caught.value.kind == "not_regular"
        assert (root / "d").is_dir()

    def test_fifo_refused(self, door: Home, root: Path) -> None:
        os.mkfifo(root / "f")
        with pytest.raises(HomePathError) as caught:
            door.remove("f")
        assert caught.value.kind == "not_regular"
        assert stat.S_ISFIFO((root / "f").lstat().st_mode)

    def test_parent_outside_refused(self, door: Home, root: Path, tmp_path: Path) -> None:
        (root / "models").symlink_to(tmp_path / "outside")
        with pytest.raises(HomePathError) as caught:
            door.remove("models/secret.json")
        assert caught.value.kind == "outside"
        assert (tmp_path / "outside" / "secret.json").exists()


class TestOpenAppend:
    """open_append opens (creating) a regular file for appending; links and FIFOs are refused."""

    def test_creates_and_appends(self, door: Home, root: Path) -> None:
        for line in (b"one\n", b"two\n"):
            fd = door.open_append("models/history.jsonl")
            try:
                os.write(fd, line)
            finally:
                os.close(fd)
        assert (root / "models" / "history.jsonl").read_bytes() == b"one\ntwo\n"

    def test_new_file_mode(self, door: Home, root: Path) -> None:
        old = os.umask(0o022)
        try:
            os.close(door.open_append("h.jsonl"))
        finally:
            os.umask(old)
        assert stat.S_IMODE((root / "h.jsonl").stat().st_mode) == 0o644

    def test_link_is_refused(self, door: Home, root: Path) -> None:
        put(root / "real.jsonl", "real\n")
        (root / "h.jsonl").symlink_to("real.jsonl")
        with pytest.raises(HomePathError) as caught:
            door.open_append("h.jsonl")
        assert caught.value.kind == "not_regular"
        assert (root / "real.jsonl").read_text() == "real\n"

    def test_fifo_is_refused_without_blocking(self, door: Home, root: Path) -> None:
        os.mkfifo(root / "h.jsonl")
        with pytest.raises(HomePathError):
            door.open_append("h.jsonl")

    def test_folder_is_refused(self, door: Home, root: Path) -> None:
        (root / "h.jsonl").mkdir()
        with pytest.raises(HomePathError):
            door.open_append("h.jsonl")

    def test_file_in_the_way(self, door: Home, root: Path) -> None:
        put(root / "models", "file")
        with pytest.raises(HomePathError) as caught:
            door.open_append("models/h.jsonl")
        assert caught.value.kind == "in_the_way"


class TestHopLimit:
    """A path may go through MAX_SYMLINK_HOPS (40) links, like Linux; one more is a loop."""

    def _chain(self, root: Path, links: int) -> str:
        (root / "real.json").write_text("end")
        previous = "real.json"
        for index in range(links):
            name = f"l{index}"
            (root / name).symlink_to(previous)
            previous = name
        return previous

    def test_limit(self) -> None:
        assert MAX_SYMLINK_HOPS == 40

    def test_forty_links_are_followed(self, door: Home, root: Path) -> None:
        first = self._chain(root, MAX_SYMLINK_HOPS)
        assert (root / first).read_text() == "end"  # the kernel agrees
        assert door.read_bytes(first) == b"end"

    def test_forty_one_links_are_a_loop(self, door: Home, root: Path) -> None:
        first = self._chain(root, MAX_SYMLINK_HOPS + 1)
        with pytest.raises(HomePathError) as caught:
            door.read_bytes(first)
        assert caught.value.kind == "loop"

    def test_forty_folder_links_are_followed(self, door: Home, root: Path) -> None:
        (root / "d").mkdir()
        (root / "d" / "f.json").write_text("in d")
        previous = "d"
        for index in range(MAX_SYMLINK_HOPS):
            (root / f"dl{index}").symlink_to(previous)
            previous = f"dl{index}"
        assert door.read_bytes(f"{previous}/f.json") == b"in d"


class TestOpenHelpers:
    """open_file yields a regular file's descriptor; open_folder_for_writing creates folders."""

    def test_open_file(self, door: Home, root: Path) -> None:
        put(root / "a" / "f.json", "content")
        with door.open_file("a/f.json") as fd:
            assert os.read(fd, 100) == b"content"
        with pytest.raises(OSError):
            os.fstat(fd)  # closed on exit

    def test_open_file_refuses_a_folder(self, door: Home, root: Path) -> None:
        (root / "d").mkdir()
        with pytest.raises(HomePathError) as caught, door.open_file("d"):
            pass
        assert caught.value.kind == "not_regular"

    def test_open_folder_for_writing(self, tmp_path: Path) -> None:
        door = Home.at(tmp_path / "new_home")
        with door.open_folder_for_writing("a/b/c.json") as (fd, name):
            assert name == "c.json"
            assert stat.S_ISDIR(os.fstat(fd).st_mode)
        assert (tmp_path / "new_home" / "a" / "b").is_dir()
        assert not (tmp_path / "new_home" / "a" / "b" / "c.json").exists()

    def test_device_node_is_other(self, door: Home, root: Path) -> None:
        try:
            os.mknod(root / "dev", 0o600 | stat.S_IFCHR, os.makedev(1, 3))
        except PermissionError:
            pytest.skip("cannot make a device node here")
        assert door.kind("dev") == "other"
        assert door.entry_kind("dev") == "other"
        with pytest.raises(HomePathError) as caught:
            door.read_bytes("dev")
        assert caught.value.kind == "not_regular"
        with pytest.raises(HomePathError):
            door.remove("dev")
        assert stat.S_ISCHR((root / "dev").lstat().st_mode)
