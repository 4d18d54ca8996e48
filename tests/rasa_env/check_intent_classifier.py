"""Run by tests/test_intent_classifier.py with the Rasa environment's python (.venv-rasa):
trains nlu_components.TfidfIntentClassifier on a small labelled set, persists it through Rasa's
model storage, loads it back and prints the predictions of the loaded copy as JSON."""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.tokenizers.jieba_tokenizer import JiebaTokenizer
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from nlu_components.intent_classifier import TfidfIntentClassifier

TRAIN = {
    "greet": ["你好", "您好", "在吗", "有人在吗", "早上好", "哈喽"],
    "report_claim": ["我要报案", "出车祸了要理赔", "住院了怎么理赔", "我要申请理赔", "被撞了要报案"],
    "ask_premium_due": ["下期保费什么时候交", "保费哪天扣", "下次交费是几号", "这期保费交多少"],
    "complain": ["我要投诉", "太坑人了", "给你们差评", "我要投诉你们"],
}
# cue words the examples above do not all use: the classifier learns from the table's name
LOOKUPS = [{"name": "complaint_word", "elements": ["投诉", "坑人", "差评", "骗子", "忽悠"]}]


def main() -> None:
    storage_dir = Path(tempfile.mkdtemp())
    storage = LocalModelStorage(storage_dir)
    resource = Resource("intent_classifier")
    context = ExecutionContext(GraphSchema({}), "test")
    tokenizer = JiebaTokenizer.create(JiebaTokenizer.get_default_config(), storage, resource, context)
    examples = [Message(data={"text": t, "intent": i}) for i, texts in TRAIN.items() for t in texts]
    data = TrainingData(examples, lookup_tables=LOOKUPS)
    tokenizer.process_training_data(data)
    component = TfidfIntentClassifier.create({}, storage, resource, context)
    component.train(data)
    loaded = TfidfIntentClassifier.load({}, storage, resource, context)
    queries = [Message(data={"text": t}) for t in sys.argv[1:]]
    tokenizer.process(queries)
    loaded.process(queries)
    print(
        json.dumps(
            [
                {"text": m.get("text"), "intent": m.get("intent"), "ranking": m.get("intent_ranking")}
                for m in queries
            ],
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    main()
