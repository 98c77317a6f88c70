// gorun/gorun.hpp — everything, for users. gorun's own headers include what they use instead.
#pragma once

#include <gorun/blocking.hpp>
#include <gorun/channel.hpp>
#include <gorun/error.hpp>
#include <gorun/event.hpp>
#include <gorun/file.hpp>
#include <gorun/go.hpp>
#include <gorun/io_control.hpp>
#include <gorun/io_result.hpp>
#include <gorun/metrics.hpp>
#include <gorun/mutex.hpp>
#include <gorun/once.hpp>
#include <gorun/runtime.hpp>
#include <gorun/select.hpp>
#include <gorun/semaphore.hpp>
#include <gorun/spawn.hpp>
#include <gorun/task.hpp>
#include <gorun/this_task.hpp>
#include <gorun/time.hpp>
#include <gorun/wait_group.hpp>
