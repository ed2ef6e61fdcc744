// Shipped end-to-end recipes (`pacer recipe NAME`): each is one record — a name, a one-line summary and
// a run() that makes its data, trains, evaluates and writes its results under a folder cached by the
// recipe's configuration and seed, so other recipes and demos reuse the result. A new recipe is one
// file here and one registerRecipe() line below.
import type { Recipe } from './recipe.js';
import { tspoRecipe } from './tspo.js';
import { vlmBase } from './vlm-base.js';
import { temple } from './temple.js';
import { videotg } from './videotg.js';
import { cue } from './cue.js';
import { curricula } from './curricula.js';

export type { Recipe, RecipeOptions, RecipeResult } from './recipe.js';

const RECIPES = new Map<string, Recipe>();

export function registerRecipe(r: Recipe): void {
  RECIPES.set(r.name, r);
}

export function recipeNames(): string[] {
  return [...RECIPES.keys()];
}

export function getRecipe(name: string): Recipe {
  const r = RECIPES.get(name);
  if (!r) throw new Error(`pacer: unknown recipe '${name}' (recipes: ${recipeNames().join(', ')})`);
  return r;
}

registerRecipe(vlmBase);
registerRecipe(temple);
registerRecipe(videotg);
registerRecipe(cue);
registerRecipe(tspoRecipe);
registerRecipe(curricula);
