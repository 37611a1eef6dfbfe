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

from collections.abc import Callable
from dataclasses import dataclass

from sizebot.image.layers import TarEntry

DIRTYPE = b"5"
WHITEOUT = ".wh."
OPAQUE = ".wh..wh..opq"
DOUBLE_WHITEOUT = ".wh..wh.."


def go_sorted(names) -> list[str]:
    """Go's sort.Strings order: by UTF-8 bytes (tar names may hold undecodable bytes)."""
    names = list(names)
    try:
        # Code point order is UTF-8 byte order, except for the surrogates that stand for
        # undecodable bytes: only names holding one need the key.
        "".join(names).encode("utf-8")
    except UnicodeEncodeError:
        return sorted(names, key=lambda s: s.encode("utf-8", "surrogateescape"))
    names.sort()
    return names


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
        todo = [(self, new)]  # iterative: layer trees can be deep
        while todo:
            src, dst = todo.pop()
            for name, child in src.children.items():
                dup = DiveNode(child.name, child.info, dst)
                dst.children[name] = dup
                if child.children:
                    todo.append((child, dup))
        return new

    def subtree_size(self) -> int:
        """The sizes of this node and of everything below it."""
        total = 0
        todo = [self]
        while todo:
            node = todo.pop()
            if node.parent is not None and node.info is not None:
                total += node.info.size
            todo.extend(node.children.values())
        return total


class DiveTree:
    def __init__(self) -> None:
        self.root = DiveNode("", None, None)
        # A node named ".wh." whites out its own parent: stacking such a tree goes path by path.
        self.odd = False

    @classmethod
    def from_entries(cls, entries: tuple[TarEntry, ...] | list[TarEntry]) -> DiveTree:
        """add_path() of every entry in order; the directory a name is in is looked up once."""
        tree = cls()
        dirs: dict[str, DiveNode] = {"": tree.root}  # directory part of a name -> its node (nodes stay put)
        for e in entries:
            path = e.path
            if WHITEOUT in path and WHITEOUT in path.split("/"):
                tree.odd = True
            head, _, name = path.rpartition("/")
            if not name:
                tree.add_path(path, e)  # "/" and other names without a last part
                continue
            parent = dirs.get(head)
            if parent is None:
                parent = tree._directory(head)
                if parent is None:
                    continue  # below an opaque-whiteout name: never added
                dirs[head] = parent
            child = parent.children.get(name)
            if child is None:
                if name.startswith(DOUBLE_WHITEOUT):
                    continue
                parent.children[name] = DiveNode(name, e, parent)
            else:
                child.info = e
        return tree

    def _directory(self, path: str) -> DiveNode | None:
        """The node of ``path``, made on the way as add_path() makes it; None under an opaque-whiteout name."""
        node = self.root
        for name in path.split("/"):
            if not name:
                continue
            child = node.children.get(name)
            if child is None:
                if name.startswith(DOUBLE_WHITEOUT):
                    return None
                child = node.children[name] = DiveNode(name, None, node)
            node = child
        return node

    def release(self) -> None:
        """Drop the nodes' links to their parents: the tree is then freed by reference counting alone."""
        todo = [self.root]
        while todo:
            node = todo.pop()
            node.parent = None
            todo.extend(node.children.values())

    def copy(self) -> DiveTree:
        new = DiveTree()
        new.root = self.root.copy(None)
        new.odd = self.odd
        return new

    def add_path(self, path: str, info: TarEntry | None) -> None:
        names = [name for name in path.split("/") if name]
        if not names:
            return
        node = self.root
        for name in names:
            child = node.children.get(name)
            if child is None:
                if name.startswith(DOUBLE_WHITEOUT):
                    return  # dive never adds opaque-whiteout markers (nor anything below one)
                child = DiveNode(name, None, node)
                node.children[name] = child
            node = child
        node.info = info

    def leaves(self) -> list[tuple[DiveNode, str]]:
        """(leaf, dive's path of it) in dive's visiting order: depth first, children in Go string order."""
        out: list[tuple[DiveNode, str]] = []
        todo: list[tuple[DiveNode, str]] = [(self.root, "")]
        while todo:
            node, path = todo.pop()
            if node.children:
                kids = node.children
                for name in reversed(go_sorted(kids)):
                    todo.append((kids[name], path + "/" + name))
            elif node.parent is not None:
                name = node.name
                if name.startswith(WHITEOUT):
                    path = path[: len(path) - len(name)] + name[len(WHITEOUT):]
                out.append((node, path or "/"))
        return out

    def get_node(self, path: str) -> DiveNode | None:
        node: DiveNode | None = self.root
        for name in path.strip("/").split("/"):
            if name == "":
                continue
            assert node is not None
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
        """Lay ``upper`` on this tree, dive's way: every upper node, children first (in Go string
        order), a whiteout removing its target, any other node added with its payload (a node only
        passed through carries none). Walks both trees side by side instead of from the root for
        each node."""
        if upper.odd:
            self._stack_by_paths(upper)
            return
        # frames: [upper node, its counterpart here (None until something must be added below it),
        # its children's names in order, the next one to visit]
        frames: list[list] = [[upper.root, self.root, go_sorted(upper.root.children), 0]]

        def counterpart(level: int) -> DiveNode:
            frame = frames[level]
            if frame[1] is None:
                parent = counterpart(level - 1)
                name = frame[0].name
                node = parent.children.get(name)
                if node is None:
                    node = parent.children[name] = DiveNode(name, None, parent)
                frame[1] = node
            return frame[1]

        def graft(node: DiveNode, level: int) -> None:  # node's parent is frames[level][0]
            name = node.name
            if name.startswith(WHITEOUT):
                parent = frames[level][1]
                if parent is not None:
                    parent.children.pop(name[len(WHITEOUT):], None)
                return
            parent = counterpart(level)
            have = parent.children.get(name)
            if have is None:
                parent.children[name] = DiveNode(name, node.info, parent)
            else:
                have.info = node.info

        while frames:
            frame = frames[-1]
            names = frame[2]
            if frame[3] < len(names):
                child = frame[0].children[names[frame[3]]]
                frame[3] += 1
                if child.children:
                    below = frame[1].children.get(child.name) if frame[1] is not None else None
                    frames.append([child, below, go_sorted(child.children), 0])
                else:
                    graft(child, len(frames) - 1)
            else:
                frames.pop()
                if frames:
                    graft(frame[0], len(frames) - 1)

    def _stack_by_paths(self, upper: DiveTree) -> None:
        def graft(node: DiveNode) -> None:
            if node.is_whiteout():
                self.remove_path(node.path())
            else:
                self.add_path(node.path(), node.info)

        upper.root.visit_child_first(graft)
        self.odd = self.odd or upper.odd


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
        keys = []  # the absolute path of each entry
        for e in entries:
            path = e.path
            if "//" in path or path.endswith("/"):
                keys.append(self.key(path))
            else:  # a cleaned name, "a/b" or "/a/b"
                keys.append(path if path.startswith("/") else "/" + path)
        # Whiteouts of a layer hide lower content only, whatever their position in the tar.
        for key in keys:
            if WHITEOUT in key:
                parent, _, base = key.rpartition("/")
                parent = parent or "/"
                if base == OPAQUE:
                    for child in list(self._children.get(parent, ())):
                        self._remove(child)
                elif base.startswith(WHITEOUT):
                    name = base[len(WHITEOUT):]
                    if name:
                        self._remove((parent if parent != "/" else "") + "/" + name)
        paths, children = self.paths, self._children
        for key, e in zip(keys, entries, strict=True):
            if key == "/" or key[key.rfind("/") + 1 :].startswith(WHITEOUT):
                continue
            old = paths.get(key)
            is_dir = e.type == DIRTYPE
            if old is not None and old.entry.type == DIRTYPE and not is_dir:
                self._remove(key)  # a file replacing a directory hides all of it
            self._ensure_parents(key)
            paths[key] = _Slot(e, index)
            if is_dir and key not in children:
                children[key] = set()

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
