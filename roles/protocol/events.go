package protocol

// Event names a moment in a role's life that a judge relies on. Every log
// line of zkctl's roles that marks such a moment carries the attribute
// event=<name> (EventAttr), with one of the names below; the message beside
// it is prose for people and may be reworded freely. A log reader such as
// the scenario judge classifies lines by this attribute alone.
type Event string

// EventAttr is the log attribute that carries an Event.
const EventAttr = "event"

// The events of the master.
const (
	EventJoined     Event = "joined"       // joined the election (attribute node)
	EventElected    Event = "elected"      // became master (a write: /master created)
	EventStepDown   Event = "step-down"    // fenced, stepping down or rejoining the election
	EventFenced     Event = "fenced-write" // a write refused by the fence (attribute op)
	EventAssigned   Event = "assigned"     // assigned task to worker (attributes task, worker)
	EventMovedBack  Event = "moved-back"   // moved a task back from a gone worker
	EventWorkerGone Event = "worker-gone"  // a gone worker's tasks were reassigned (attribute tasks)
)

// The events of the worker.
const (
	EventRegistered Event = "registered" // registered under its id
	EventCompleted  Event = "completed"  // wrote the result of a task (attribute task)
	EventDropped    Event = "dropped"    // dropped a result: the task was moved meanwhile
	// EventUnanswered: the session ended while the result's write went
	// unanswered (attribute task); it may have gone through.
	EventUnanswered Event = "unanswered"
)

// The events of the client.
const (
	EventSubmitted Event = "submitted"   // submitted its tasks (attribute tasks)
	EventResult    Event = "result"      // read the result of a task (attributes task, result)
	EventCleaned   Event = "cleaned"     // removed what a predecessor left (attribute results)
	EventAllIn     Event = "all-results" // every result is in
)

// EventStopped is logged by a master or worker that ends normally.
const EventStopped Event = "stopped"
