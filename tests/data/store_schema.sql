-- version 1
PRAGMA user_version = 1;
CREATE TABLE events ( id INTEGER PRIMARY KEY, session_id INTEGER NOT NULL REFERENCES sessions(id), kind TEXT NOT NULL, t_s REAL NOT NULL, data TEXT NOT NULL);
CREATE TABLE reps ( id INTEGER PRIMARY KEY, session_id INTEGER NOT NULL REFERENCES sessions(id), step INTEGER, exercise TEXT NOT NULL, kind TEXT, count INTEGER, set_no INTEGER, amplitude_deg REAL, depth_deg REAL, hold_s REAL, hold_target_s REAL, hold_met INTEGER, t_start REAL, t_peak REAL, t_end REAL, t_s REAL NOT NULL);
CREATE TABLE samples ( id INTEGER PRIMARY KEY, session_id INTEGER NOT NULL REFERENCES sessions(id), step INTEGER, n INTEGER NOT NULL, fs REAL, t BLOB NOT NULL, acc BLOB NOT NULL, gyr BLOB NOT NULL, t_host BLOB);
CREATE TABLE sessions ( id INTEGER PRIMARY KEY, device_id TEXT NOT NULL, routine TEXT NOT NULL, source TEXT NOT NULL DEFAULT '', fs REAL, started_at REAL NOT NULL, ended_at REAL, complete INTEGER NOT NULL DEFAULT 0, summary TEXT);
CREATE TABLE steps ( id INTEGER PRIMARY KEY, session_id INTEGER NOT NULL REFERENCES sessions(id), step INTEGER, exercise TEXT NOT NULL, set_no INTEGER, sets INTEGER, target_reps INTEGER, hold_target_s REAL, placement TEXT, t_s REAL NOT NULL);
CREATE TABLE sway (id INTEGER PRIMARY KEY, session_id INTEGER NOT NULL REFERENCES sessions(id), step INTEGER, exercise TEXT, t_s REAL NOT NULL, rms_ap REAL, rms_ml REAL, rms REAL, range_ap REAL, range_ml REAL, path_length REAL, mean_velocity REAL, jerk REAL, ellipse_area_95 REAL, centroid_freq_ap REAL, centroid_freq_ml REAL, duration_s REAL);
CREATE INDEX events_session ON events(session_id, id);
CREATE INDEX samples_session ON samples(session_id, step, id);

-- version 2: what changes from version 1
- PRAGMA user_version = 1;
- CREATE TABLE sessions ( id INTEGER PRIMARY KEY, device_id TEXT NOT NULL, routine TEXT NOT NULL, source TEXT NOT NULL DEFAULT '', fs REAL, started_at REAL NOT NULL, ended_at REAL, complete INTEGER NOT NULL DEFAULT 0, summary TEXT);
+ PRAGMA user_version = 2;
+ CREATE TABLE feel ( id INTEGER PRIMARY KEY, day TEXT NOT NULL, session_id INTEGER REFERENCES sessions(id), score INTEGER NOT NULL CHECK (score BETWEEN 1 AND 10), note TEXT, created_at REAL NOT NULL);
+ CREATE TABLE sessions ( id INTEGER PRIMARY KEY, device_id TEXT NOT NULL, routine TEXT NOT NULL, source TEXT NOT NULL DEFAULT '', fs REAL, started_at REAL NOT NULL, ended_at REAL, complete INTEGER NOT NULL DEFAULT 0, summary TEXT, day TEXT, pid INTEGER, host TEXT, heartbeat_at REAL, n_samples INTEGER NOT NULL DEFAULT 0);
+ CREATE INDEX feel_day ON feel(day);
+ CREATE UNIQUE INDEX feel_session ON feel(session_id) WHERE session_id IS NOT NULL;
+ CREATE INDEX reps_session ON reps(session_id, exercise);
+ CREATE INDEX sessions_day ON sessions(day, started_at);
+ CREATE INDEX steps_session ON steps(session_id);
+ CREATE INDEX sway_session ON sway(session_id);

-- version 3: what changes from version 2
- PRAGMA user_version = 2;
+ PRAGMA user_version = 3;
+ CREATE TABLE strides ( id INTEGER PRIMARY KEY, session_id INTEGER NOT NULL REFERENCES sessions(id), step INTEGER, t_start REAL, t_end REAL, time_s REAL, length_m REAL, stance_s REAL, swing_s REAL, turn_deg REAL);
+ CREATE TABLE walk_bouts ( id INTEGER PRIMARY KEY, session_id INTEGER NOT NULL REFERENCES sessions(id), step INTEGER, bout INTEGER NOT NULL, t_start REAL, t_end REAL, strides INTEGER, cadence_spm REAL, stride_time_s REAL, stride_time_cv REAL, stance_frac REAL, stride_length_m REAL, speed_m_s REAL, distance_m REAL, turns INTEGER);
+ CREATE TABLE walks ( id INTEGER PRIMARY KEY, session_id INTEGER NOT NULL REFERENCES sessions(id), step INTEGER, exercise TEXT NOT NULL, test TEXT, trial INTEGER, t_s REAL NOT NULL, duration_s REAL, walking_s REAL, distance_m REAL, speed_m_s REAL, cadence_spm REAL, strides INTEGER, stride_time_s REAL, stride_time_cv REAL, stance_frac REAL, stride_length_m REAL, turns INTEGER, test_time_s REAL, test_distance_m REAL, test_done INTEGER);
+ CREATE INDEX strides_session ON strides(session_id, step);
+ CREATE INDEX walk_bouts_session ON walk_bouts(session_id, step);
+ CREATE INDEX walks_session ON walks(session_id);
