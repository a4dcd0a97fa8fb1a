-- wrk script for the /cached scenario: each request names one of the N
-- cached workers made live before the run (N is the argument after `--`),
-- cycling through them so every one is called.
local names, i = 200, 0

function init(args)
  names = tonumber(args[1]) or names
  i = math.random(names) - 1
end

function request()
  i = (i + 1) % names
  return wrk.format("GET", "/cached?name=" .. i)
end
