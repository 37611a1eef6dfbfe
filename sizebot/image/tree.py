"""Stacked file trees, two of them on purpose.

``DiveTree`` reproduces dive v0.13.1's tree model (read from its source, not copied), quirks
included, because dive's figures depend on them:

* a node created on the way to a deeper path carries an empty payload (size 0, not a
  directory), and stacking a layer copies *every* node's payload upward, so a directory
  that a later layer only passes through loses its own tar payload;
* ``.wh..wh..opq`` (opaque whiteouts) never enter a tree: dive ignores them;
* ``.wh.<name>`` nodes stay in the layer tree as nodes; stacking removes ``<name>``;
* node names are the components of Go's ``path.Clean`` of the tar name, ".." included.

``FinalFS`` is sizebot's own, correct stacking (OCI image-spec semantics): whiteouts and
opaque whiteouts hide lower-layer content, a non-directory replaces a whole directory, and
each path remembers which layer wrote it. It gives the final filesystem and, by
difference, the bytes shipped but never visible.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from sizebot.image.layers import TarEntry

WHITEOUT = ".wh."
OPAQUE = ".wh..wh..opq"
DOUBLE_WHITEOUT = ".wh..wh.."


def go_sorted(names) -> list[str]:
    """Go's sort.Strings order: by UTF-8 bytes (tar names may hold undecodable bytes)."""
    return sorted(names, key=lambda s: s.encode("utf-8", "surrogateescape"))


class DiveNode:
    __slots__ = ("name", "info", "children", "parent")

    def __init__(self, name: str, info: TarEntry | None, parent: DiveNode | None):
        self.name = name
        self.info = info  # None = dive's empty FileInfo{} (size 0, not a directory)
        self.children: dict[str, DiveNode] = {}
        self.parent = parent

    @property
    def size(self) -> int:
        return self.info.size if self.info is not None else 0

    @property
    def is_dir(self) -> bool:
        return self.info is not None and self.info.is_dir

    def is_whiteout(self) -> bool:
        return self.name.startswith(WHITEOUT)

    def is_leaf(self) -> bool:
        return not self.children

    def path(self) -> str:
        """dive's FileNode.Path(): the ".wh." prefix is dropped from the node's own name only."""
        parts = []
        node: DiveNode | None = self
        while node is not None and node.parent is not None:
            name = node.name
            if node is self and name.startswith(WHITEOUT):
                name = name[len(WHITEOUT):]
            parts.append(name)
            node = node.parent
        return ("/" + "/".join(reversed(parts))).replace("//", "/")

    def visit_child_first(self, visitor: Callable[[DiveNode], None], evaluator=None, root: bool = False) -> None:
        """Depth first, children (in Go string order) before their parent; the tree root is never visited."""
        # Iterative post-order: layer trees can be deep.
        stack: list[tuple[DiveNode, bool]] = [(self, False)]
        while stack:
            node, expanded = stack.pop()
            if not expanded:
                stack.append((node, True))
                for name in reversed(go_sorted(node.children)):
                    stack.append((node.children[name], False))
                continue
            if node.parent is None:
                continue  # the root
            if evaluator is None or evaluator(node):
                visitor(node)

    def copy(self, parent: DiveNode | None) -> DiveNode:
        new = DiveNode(self.name, self.info, parent)
        for name, child in self.children.items():
            new.children[name] = child.copy(new)
        return new


class DiveTree:
    def __init__(self) -> None:
        self.root = DiveNode("", None, None)

    @classmethod
    def from_entries(cls, entries: tuple[TarEntry, ...] | list[TarEntry]) -> DiveTree:
        tree = cls()
        for e in entries:
            tree.add_path(e.path, e)
        return tree

    def copy(self) -> DiveTree:
        new = DiveTree()
        new.root = self.root.copy(None)
        return new

    def add_path(self, path: str, info: TarEntry | None) -> None:
        names = path.strip("/").split("/")
        node = self.root
        last = len(names) - 1
        for idx, name in enumerate(names):
            if name == "":
                continue
            child = node.children.get(name)
            if child is None:
                if name.startswith(DOUBLE_WHITEOUT):
                    return  # dive never adds opaque-whiteout markers (nor anything below one)
                child = DiveNode(name, None, node)
                node.children[name] = child
            node = child
            if idx == last:
                node.info = info

    def get_node(self, path: str) -> DiveNode | None:
        node = self.root
        for name in path.strip("/").split("/"):
            if name == "":
                continue
            node = node.children.get(name)
            if node is None:
                return None
        return node

    def remove_path(self, path: str) -> None:
        node = self.get_node(path)
        if node is None or node is self.root:
            return  # dive logs the failure and goes on
        assert node.parent is not None
        node.parent.children.pop(node.name, None)

    def stack(self, upper: DiveTree) -> None:
        """Lay ``upper`` on this tree, dive's way (every upper node, children first)."""

        def graft(node: DiveNode) -> None:
            if node.is_whiteout():
                self.remove_path(node.path())
            else:
                self.add_path(node.path(), node.info)

        upper.root.visit_child_first(graft)

    def leaves(self) -> Iterator[DiveNode]:
        out: list[DiveNode] = []
        self.root.visit_child_first(out.append, lambda n: n.is_leaf())
        return iter(out)


# --------------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Slot:
    entry: TarEntry
    layer: int


class FinalFS:
    """The filesystem a container sees, stacked with OCI semantics."""

    def __init__(self) -> None:
        self.paths: dict[str, _Slot] = {}  # "/a/b" -> entry and the layer that wrote it
        self._children: dict[str, set[str]] = {"/": set()}  # directory path -> child paths

    @staticmethod
    def key(path: str) -> str:
        """The absolute path of a tar name (already cleaned): "a/b" -> "/a/b", ".." kept as a name like dive."""
        parts = [p for p in path.split("/") if p]
        return "/" + "/".join(parts)

    def apply_layer(self, index: int, entries: tuple[TarEntry, ...] | list[TarEntry]) -> None:
        # Whiteouts of a layer hide lower content only, whatever their position in the tar.
        for e in entries:
            key = self.key(e.path)
            base = key.rsplit("/", 1)[1]
            parent = key.rsplit("/", 1)[0] or "/"
            if base == OPAQUE:
                for child in list(self._children.get(parent, ())):
                    self._remove(child)
            elif base.startswith(WHITEOUT):
                name = base[len(WHITEOUT):]
                if name:
                    self._remove((parent if parent != "/" else "") + "/" + name)
        for e in entries:
            key = self.key(e.path)
            base = key.rsplit("/", 1)[1]
            if key == "/" or base.startswith(WHITEOUT):
                continue
            old = self.paths.get(key)
            if old is not None and old.entry.is_dir and not e.is_dir:
                self._remove(key)  # a file replacing a directory hides all of it
            self._ensure_parents(key)
            self.paths[key] = _Slot(e, index)
            if e.is_dir:
                self._children.setdefault(key, set())

    def _ensure_parents(self, key: str) -> None:
        parent, _, _ = key.rpartition("/")
        parent = parent or "/"
        if parent != "/" and parent not in self._children:
            slot = self.paths.get(parent)
            if slot is not None and not slot.entry.is_dir:
                self._remove(parent)  # a file on the way to a deeper path is replaced by a directory
            self._ensure_parents(parent)
            self._children[parent] = set()
        self._children[parent].add(key)

    def _remove(self, key: str) -> None:
        for child in list(self._children.pop(key, ())):
            self._remove(child)
        self.paths.pop(key, None)
        parent = key.rpartition("/")[0] or "/"
        if parent in self._children:
            self._children[parent].discard(key)

    def directories(self) -> set[str]:
        """Directory paths present only because a deeper path needs them (no tar entry of their own) included."""
        return set(self._children) - {"/"}
