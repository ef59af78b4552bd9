package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// The wrk scripts. Each starts with its settings as Lua globals (written by
// luaScript, so that no script text goes through a format string), then the
// prelude. A thread takes every NTHREADS-th line of a shared file, so no
// reader or captcha is used by two threads at once.
const prelude = `
local counter = 0
local threads = {}
function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
  table.insert(threads, thread)
end
-- lines returns this thread's share of a file, or all of it.
local function lines(path, all)
  local out, i = {}, 0
  for line in io.lines(path) do
    if all or i % NTHREADS == tid then table.insert(out, line) end
    i = i + 1
  end
  return out
end
-- sum adds a global over the threads, in done().
local function sum(name)
  local n = 0
  for _, t in ipairs(threads) do n = n + (t:get(name) or 0) end
  return n
end
`

// countsToken is the widget's read: a reader's token on every request, so
// that the server answers "mine" too. The counts scripts format their
// requests once, in init: formatting in Lua on every request cost wrk, on
// the same cores, a share the ceiling's static request does not pay.
const countsToken = `
local reqs, i = {}, 0
function init(args)
  for _, t in ipairs(lines(TOKENS)) do
    table.insert(reqs, wrk.format("GET", nil, {["X-Reader-Token"] = t}))
  end
end
function request()
  i = i % #reqs + 1
  return reqs[i]
end
`

// countsQuiet reads the counts of articles nobody reacted to: half of the
// keys name articles that exist, half were never created.
const countsQuiet = `
local reqs, i = {}, 0
function init(args)
  local tokens, keys = lines(TOKENS), lines(KEYS)
  for n = 1, math.max(#tokens, #keys) do
    local path = PREFIX .. keys[n % #keys + 1] .. "/reactions"
    table.insert(reqs, wrk.format("GET", path, {["X-Reader-Token"] = tokens[n % #tokens + 1]}))
  end
end
function request()
  i = i % #reqs + 1
  return reqs[i]
end
`

// reactionVote gives each request a reader whose reaction changes: a new
// reader likes, a reader who liked dislikes, and back.
const reactionVote = `
local tokens, state, i = nil, {}, 0
function init(args)
  tokens = lines(TOKENS)
end
function request()
  i = i % #tokens + 1
  local r = "like"
  if state[i] == "like" then r = "dislike" end
  state[i] = r
  return wrk.format("PUT", nil, {["X-Reader-Token"] = tokens[i], ["Content-Type"] = "application/json"}, '{"reaction":"' .. r .. '"}')
end
`

// commentVote picks a reader and a comment at random: a pair seen before
// flips its vote, a new pair votes, so every request changes a count.
const commentVote = `
local tokens, ids, state = nil, nil, {}
function init(args)
  tokens = lines(TOKENS)
  ids = lines(IDS, true)
  math.randomseed(1000 + tid)
end
function request()
  local r = math.random(#tokens)
  local c = ids[math.random(#ids)]
  local k = r .. ":" .. c
  local v = state[k]
  if v == nil then
    if r % 2 == 0 then v = 1 else v = -1 end
  else
    v = -v
  end
  state[k] = v
  return wrk.format("PUT", "/api/v1/comments/" .. c .. "/vote", {["X-Reader-Token"] = tokens[r], ["Content-Type"] = "application/json"}, '{"vote":' .. v .. '}')
end
`

// pairs is what a commenter does: ask for a captcha, then post with it.
// wrk's Lua does not tell which connection a response came on, so solved
// captchas go to a queue that the next request takes from: each is used
// once, and every post has a captcha issued for it during the run.
const pairs = `
local ready, n = {}, 0
posts = 0
function request()
  local c = table.remove(ready)
  if c == nil then
    return wrk.format("POST", "/api/v1/captchas", {["Content-Type"] = "application/json"}, "")
  end
  n = n + 1
  local body = string.format('{"author":"Bench reader %d","body":"Pair %d of thread %d: the council should publish the full budget before the vote, and the night buses must run on Sundays too.","captcha_id":"%s","captcha_solution":"%s"}', n % 500, n, tid, c[1], c[2])
  return wrk.format("POST", nil, {["Content-Type"] = "application/json"}, body)
end
function response(status, headers, body)
  if status ~= 201 then return end
  if body:find('"edit_token"', 1, true) then
    posts = posts + 1
    return
  end
  local id, sol = body:match('"id":"([^"]+)".-"test_solution":"(%d+)"')
  if id then table.insert(ready, {id, sol}) end
end
function done(summary, latency, requests)
  io.write(string.format("BENCH posts=%d\n", sum("posts")))
end
`

// media asks for captcha images and audio in turn, and counts how the
// server answered (a rate limit shows as 429s).
const media = `
local ids, i = nil, 0
ok, limited, other = 0, 0, 0
function init(args)
  ids = lines(CAPTCHAS)
end
function request()
  i = i + 1
  local id = ids[math.floor(i / 2) % #ids + 1]
  local kind = "/audio.wav"
  if i % 2 == 0 then kind = "/image.png" end
  return wrk.format("GET", "/api/v1/captchas/" .. id .. kind)
end
function response(status, headers, body)
  if status == 200 then ok = ok + 1 elseif status == 429 then limited = limited + 1 else other = other + 1 end
end
function done(summary, latency, requests)
  io.write(string.format("BENCH ok=%d limited=%d other=%d\n", sum("ok"), sum("limited"), sum("other")))
end
`

const queue = `
wrk.headers["Authorization"] = "Bearer " .. MODTOKEN
`

// luaScript writes a script: its settings as globals, the prelude, the body.
func luaScript(dir, name string, threads int, vars map[string]string, body string) (string, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "NTHREADS = %d\n", threads)
	names := make([]string, 0, len(vars))
	for k := range vars {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		fmt.Fprintf(&b, "%s = %s\n", k, strconv.Quote(vars[k]))
	}
	b.WriteString(prelude)
	b.WriteString(body)
	p := filepath.Join(dir, name+".lua")
	return p, os.WriteFile(p, []byte(b.String()), 0o600)
}

// writeLines writes a data file for the scripts, one item a line.
func writeLines(dir, name string, items []string) (string, error) {
	p := filepath.Join(dir, name)
	return p, os.WriteFile(p, []byte(strings.Join(items, "\n")+"\n"), 0o600)
}
