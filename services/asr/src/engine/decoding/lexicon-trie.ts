/**
 * A prefix tree of word spellings over CTC token ids, flattened into typed arrays: node n's children are
 * entries firstChild[n] .. firstChild[n + 1] − 1 of childToken/childNode, sorted by token. Node 0 is the
 * root (the start of a word). A node where a spelling ends carries that word's index; `lookAhead` holds
 * the best score of any word below a node (the search adds it to a partial word so that hypotheses in
 * the middle of a word compete fairly with those that just finished one).
 */
export class LexiconTrie {
  readonly firstChild: Int32Array;
  readonly childToken: Int32Array;
  readonly childNode: Int32Array;
  /** Word index ending at each node, −1 where none does. */
  readonly wordAt: Int32Array;
  /** Best word score below each node (0 when built without scores). */
  readonly lookAhead: Float32Array;
  readonly words: number;

  private constructor(
    firstChild: Int32Array,
    childToken: Int32Array,
    childNode: Int32Array,
    wordAt: Int32Array,
    lookAhead: Float32Array,
    words: number,
  ) {
    this.firstChild = firstChild;
    this.childToken = childToken;
    this.childNode = childNode;
    this.wordAt = wordAt;
    this.lookAhead = lookAhead;
    this.words = words;
  }

  get nodes(): number {
    return this.wordAt.length;
  }

  /**
   * Builds the trie of `spellings` (token ids of each word, without the word separator); an empty
   * spelling is skipped, and of two equal spellings the first word is kept. `wordScore(i)` (optional)
   * gives the look-ahead score of word i.
   */
  static build(spellings: readonly ArrayLike<number>[], wordScore?: (word: number) => number): LexiconTrie {
    // Children as maps while building; flattened breadth-first at the end.
    const children: Array<Map<number, number>> = [new Map()];
    const word: number[] = [-1];
    let words = 0;
    spellings.forEach((spelling, index) => {
      if (spelling.length === 0) return;
      let node = 0;
      for (let i = 0; i < spelling.length; i++) {
        const token = spelling[i]!;
        let next = children[node]!.get(token);
        if (next === undefined) {
          next = children.length;
          children.push(new Map());
          word.push(-1);
          children[node]!.set(token, next);
        }
        node = next;
      }
      if (word[node] === -1) {
        word[node] = index;
        words++;
      }
    });
    const count = children.length;
    // Breadth-first renumbering keeps each node's children contiguous.
    const order = new Int32Array(count);
    const newId = new Int32Array(count);
    let tail = 1;
    for (let head = 0; head < tail; head++) {
      const old = order[head]!;
      const sorted = [...children[old]!.entries()].sort((a, b) => a[0] - b[0]);
      for (const [, child] of sorted) {
        newId[child] = tail;
        order[tail++] = child;
      }
    }
    const firstChild = new Int32Array(count + 1);
    const childToken = new Int32Array(count - 1);
    const childNode = new Int32Array(count - 1);
    const wordAt = new Int32Array(count);
    let edge = 0;
    for (let n = 0; n < count; n++) {
      const old = order[n]!;
      firstChild[n] = edge;
      wordAt[n] = word[old]!;
      const sorted = [...children[old]!.entries()].sort((a, b) => a[0] - b[0]);
      for (const [token, child] of sorted) {
        childToken[edge] = token;
        childNode[edge] = newId[child]!;
        edge++;
      }
    }
    firstChild[count] = edge;
    const lookAhead = new Float32Array(count);
    if (wordScore) {
      // Children have larger ids than their parent: one backward pass takes the max up the tree.
      lookAhead.fill(-Infinity);
      for (let n = count - 1; n >= 0; n--) {
        const w = wordAt[n]!;
        if (w >= 0) lookAhead[n] = Math.max(lookAhead[n]!, wordScore(w));
        for (let e = firstChild[n]!; e < firstChild[n + 1]!; e++)
          lookAhead[n] = Math.max(lookAhead[n]!, lookAhead[childNode[e]!]!);
      }
    }
    return new LexiconTrie(firstChild, childToken, childNode, wordAt, lookAhead, words);
  }

  /** The child of `node` along `token`, or −1. */
  child(node: number, token: number): number {
    const end = this.firstChild[node + 1]!;
    for (let e = this.firstChild[node]!; e < end; e++) {
      const t = this.childToken[e]!;
      if (t === token) return this.childNode[e]!;
      if (t > token) return -1;
    }
    return -1;
  }
}
