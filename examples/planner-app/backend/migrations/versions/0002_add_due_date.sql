-- message: add due date (nullable: the previous version keeps running on this schema)
ALTER TABLE tasks ADD COLUMN due_date DATE NULL;
