package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// The wrk scripts. Each wrk thread takes every n-th line of the shared
// file, so no reader or captcha is used by two threads.
const partition = `
local counter = 0
local threads = {}
function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
  table.insert(threads, thread)
end
local items = {}
local function load(path, nthreads)
  local i = 0
  for line in io.lines(path) do
    if i %% nthreads == tid then table.insert(items, line) end
    i = i + 1
  end
end
`

const voteScript = partition + `
local state = {}
local idx = 0
likes = 0
readers = 0
function init(args)
  load("%s", %d)
end
function request()
  idx = idx %% #items + 1
  local r = "like"
  if state[idx] == "like" then r = "dislike" end
  if state[idx] == nil then readers = readers + 1 else if state[idx] == "like" then likes = likes - 1 end end
  if r == "like" then likes = likes + 1 end
  state[idx] = r
  return wrk.format("PUT", nil, {["X-Reader-Token"] = items[idx], ["Content-Type"] = "application/json"}, '{"reaction":"' .. r .. '"}')
end
function done(summary, latency, requests)
  local l, n = 0, 0
  for _, t in ipairs(threads) do
    l = l + t:get("likes")
    n = n + t:get("readers")
  end
  io.write(string.format("BENCH likes=%%d readers=%%d\n", l, n))
end
`

const postScript = partition + `
local idx = 0
function init(args)
  load("%s", %d)
end
function request()
  idx = idx + 1
  if idx > #items then idx = 1 end
  local id, sol = items[idx]:match("(%%S+) (%%S+)")
  local body = string.format('{"author":"Bench reader %%d","body":"Comment %%d of thread %%d: the council should publish the full budget before the vote, and the night buses must run on Sundays too.","captcha_id":"%%s","captcha_solution":"%%s"}', idx %% 500, idx, tid, id, sol)
  return wrk.format("POST", nil, {["Content-Type"] = "application/json"}, body)
end
`

const queueScript = `
wrk.headers["Authorization"] = "Bearer %s"
`

func writeScripts(dir, tokens, captchas, modToken string) (map[string]string, error) {
	out := map[string]string{}
	for name, body := range map[string]string{
		"vote":  fmt.Sprintf(voteScript, tokens, 2),
		"post":  fmt.Sprintf(postScript, captchas, 2),
		"queue": fmt.Sprintf(queueScript, modToken),
	} {
		p := filepath.Join(dir, name+".lua")
		if err := os.WriteFile(p, []byte(strings.TrimSpace(body)+"\n"), 0o600); err != nil {
			return nil, err
		}
		out[name] = p
	}
	return out, nil
}
