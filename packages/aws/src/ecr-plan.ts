import type { TaggedImage } from './ecr-client.js';
import { isTagImmutable, type TagMutability } from './ecr-names.js';

/** What to do about an image, decided from where its tags point before anything is pushed. */
export type PublishPlan =
  /** The commit's tag already exists: point the other tags at that image, build nothing. */
  | { action: 'reuse'; image: TaggedImage; add: string[]; unchanged: string[] }
  /** Build and push; `moved` are mutable tags that now point to another image and will be moved. */
  | { action: 'build'; moved: string[] }
  /** Tags that exist and cannot be moved: the repository's tag immutability forbids it. */
  | { action: 'conflict'; conflicts: { tag: string; digest: string }[]; reuse: boolean };

export interface PublishPlanInput {
  /** Every tag of the image, the commit SHA tag first. */
  tags: string[];
  /** Where each tag points now (absent = the tag does not exist). */
  current: Map<string, TaggedImage>;
  mutability: TagMutability;
  /** Reuse the image of the SHA tag when it exists instead of building. */
  skipIfExists: boolean;
}

/**
 * Decides between reusing and building, and finds the immutable tags that would make the push fail — before
 * anything is pushed, so an immutable repository never ends up with half of the tags.
 */
export function planPublish(input: PublishPlanInput): PublishPlan {
  const [shaTag] = input.tags;
  const existing = shaTag === undefined ? undefined : input.current.get(shaTag);
  if (input.skipIfExists && existing !== undefined) {
    const add: string[] = [];
    const unchanged: string[] = [];
    const conflicts: { tag: string; digest: string }[] = [];
    for (const tag of input.tags) {
      const now = input.current.get(tag);
      if (now?.digest === existing.digest) unchanged.push(tag);
      else if (now !== undefined && isTagImmutable(input.mutability, tag))
        conflicts.push({ tag, digest: now.digest });
      else add.push(tag);
    }
    if (conflicts.length > 0) return { action: 'conflict', conflicts, reuse: true };
    return { action: 'reuse', image: existing, add, unchanged };
  }
  const conflicts: { tag: string; digest: string }[] = [];
  const moved: string[] = [];
  for (const tag of input.tags) {
    const now = input.current.get(tag);
    if (now === undefined) continue;
    if (isTagImmutable(input.mutability, tag)) conflicts.push({ tag, digest: now.digest });
    else moved.push(tag);
  }
  if (conflicts.length > 0) return { action: 'conflict', conflicts, reuse: false };
  return { action: 'build', moved };
}

/** The message for a conflict plan: which tags, why, and what to change. */
export function conflictMessage(
  repository: string,
  plan: Extract<PublishPlan, { action: 'conflict' }>,
): string {
  const list = plan.conflicts.map((c) => `${c.tag} (${c.digest.slice(0, 19)}…)`).join(', ');
  const moving = plan.conflicts.filter((c) => c.tag.endsWith('-latest') || c.tag === 'buildcache');
  const advice = [
    plan.reuse
      ? 'The commit was built before, but these tags point to other images and the repository does not let them move.'
      : 'Building would have to move them, and the repository does not let tags move: nothing was built or pushed.',
    moving.length > 0
      ? `Moving tags such as ${moving.map((c) => c.tag).join(', ')} need a mutable repository, or an immutability exclusion filter for them (ECR's IMMUTABLE_WITH_EXCLUSION); otherwise drop the input that adds them.`
      : 'Use a new tag, or set skip-if-exists: true so a re-run reuses the image of the commit.',
  ];
  return `The ECR repository ${repository} has immutable tags, and ${plan.conflicts.length === 1 ? 'this tag already exists' : 'these tags already exist'}: ${list}. ${advice.join(' ')}`;
}
